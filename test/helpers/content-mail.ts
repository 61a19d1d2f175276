// Builds MIME messages for the content-check tests: a text part plus base64
// attachments (as mail clients send them), attached messages, small sample
// files (a minimal Windows PE header, a minimal PDF), and the malformed MIME
// structures that Haraka's parser misreads or chokes on. Also the Date: value
// every test message carries (mailDate: now, never a fixed day).

export interface Attachment {
  filename?: string
  contentType: string
  data: Buffer | string
  /** Extra header lines for the part (e.g. an RFC 2231 filename*=). */
  headers?: string[]
  /** Encoding of the part; default base64. "raw" writes `data` as is (8bit). */
  encoding?: 'base64' | 'raw'
  /** Content-Disposition; default attachment. */
  disposition?: 'attachment' | 'inline' | 'none'
}

export interface MimeMessage {
  from: string
  to: string
  subject?: string
  text?: string
  html?: string
  headers?: string[]
  /** Parameters written before the boundary in the message's Content-Type (e.g. `xboundary="fake"; `). */
  contentTypeParams?: string
  attachments?: Attachment[]
}

/**
 * An RFC 5322 Date: value for `at` (default: now, what a real client sends), e.g.
 * "Wed, 02 Dec 2026 07:57:53 +0000". Test messages must not carry a fixed date:
 * rspamd scores dates in the past (and in the future), so a fixed one moves a
 * message into another spam band as the calendar moves on.
 */
export function mailDate(at: Date = new Date()): string {
  return at.toUTCString().replace(/ GMT$/, ' +0000')
}

let counter = 0

/** A multipart/mixed message (CRLF line ends) with a unique marker in its Message-ID. */
export function mimeMessage(m: MimeMessage): { text: string; marker: string } {
  const marker = `content-${process.pid}-${Date.now()}-${++counter}`
  const boundary = `b-${marker}`
  const lines = [
    `From: <${m.from}>`,
    `To: <${m.to}>`,
    `Subject: ${m.subject ?? 'test'}`,
    `Message-ID: <${marker}@test.invalid>`,
    `Date: ${mailDate()}`,
    'MIME-Version: 1.0',
    ...(m.headers ?? []),
    `Content-Type: multipart/mixed; ${m.contentTypeParams ?? ''}boundary="${boundary}"`,
    '',
    'This is a multi-part message in MIME format.',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    m.text ?? `Body ${marker}`,
  ]
  if (m.html !== undefined) lines.push(`--${boundary}`, 'Content-Type: text/html; charset=utf-8', '', m.html)
  for (const a of m.attachments ?? []) {
    lines.push(`--${boundary}`, ...attachmentPart(a))
  }
  lines.push(`--${boundary}--`, '')
  return { text: lines.join('\r\n'), marker }
}

/** The lines of a part (headers, blank line, content) as mimeMessage writes an attachment. */
export function attachmentPart(a: Attachment): string[] {
  const name = a.filename === undefined ? '' : `; name="${a.filename}"`
  const disposition = a.disposition ?? 'attachment'
  const head = [`Content-Type: ${a.contentType}${name}`]
  if (disposition !== 'none') head.push(`Content-Disposition: ${disposition}${a.filename === undefined ? '' : `; filename="${a.filename}"`}`)
  head.push(...(a.headers ?? []))
  if (a.encoding === 'raw') return [...head, '', Buffer.isBuffer(a.data) ? a.data.toString('utf8') : a.data]
  const b64 = (Buffer.isBuffer(a.data) ? a.data : Buffer.from(a.data, 'utf8')).toString('base64')
  return [...head, 'Content-Transfer-Encoding: base64', '', ...(b64.match(/.{1,76}/g) ?? [''])]
}

/** The first bytes of a Windows program: DOS header pointing at a PE signature. */
export function fakeWindowsProgram(size = 1024): Buffer {
  const b = Buffer.alloc(size, 0)
  b.write('MZ', 0, 'latin1')
  b.writeUInt32LE(0x80, 0x3c)
  b.write('PE\0\0', 0x80, 'latin1')
  b.write('This program cannot be run in DOS mode.', 0x40, 'latin1')
  return b
}

/** A small, valid-looking PDF with binary bytes in it (so a byte comparison means something). */
export function samplePdf(): Buffer {
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  return Buffer.concat([
    Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n', 'latin1'),
    Buffer.from('2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\nstream\n', 'latin1'),
    binary,
    Buffer.from('\nendstream\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1'),
  ])
}

/**
 * The parser-exhaustion repro: a message declaring multipart/mixed with boundary
 * "b" whose body is `count` lines "--b" (every one opens a part).
 */
export function boundaryFlood(count: number): string {
  return `Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\n'.repeat(count)}`
}

/** A message `depth` multiparts deep (the message itself is the first) with `bottom` as the innermost part. */
export function deeplyNested(depth: number, bottom: Attachment, headers: string[] = ['Subject: nested']): string {
  const lines = [...headers, 'MIME-Version: 1.0']
  for (let d = 0; d < depth; d++) lines.push(`Content-Type: multipart/mixed; boundary="n${d}"`, '', `--n${d}`)
  lines.push(...attachmentPart(bottom))
  for (let d = depth - 1; d >= 0; d--) lines.push(`--n${d}--`)
  return `${lines.join('\r\n')}\r\n`
}
