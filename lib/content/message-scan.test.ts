// Unit tests for the per-message scan: complete messages read as mail clients
// read them (mime-reader.ts over @zone-eu/mailsplit), from a stream as Haraka
// hands the stored message over.
import { Readable } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { attachmentPart, boundaryFlood, deeplyNested, fakeWindowsProgram, mimeMessage, samplePdf, type Attachment } from '../../test/helpers/content-mail'
import { zip } from '../../test/helpers/zip-writer'
import { AttachmentPolicy } from './attachment-policy'
import { DEFAULT_BLOCKED_EXTENSIONS, DEFAULT_BLOCKED_MIME_TYPES } from './config'
import { scanMessage, type MessageScanOptions } from './message-scan'

const policy = new AttachmentPolicy({ blockedExtensions: DEFAULT_BLOCKED_EXTENSIONS, blockedMimeTypes: DEFAULT_BLOCKED_MIME_TYPES, blockExecutableContent: true })
const archives = { maxDepth: 3, maxEntries: 100, maxBytes: 1024 * 1024, maxArchiveBytes: 1024 * 1024, maxParts: 1000, maxRatio: 100, ratioMinBytes: 1024 * 1024, maxExpandedBytes: 256 * 1024 * 1024 }
const mime = { maxHeaderBytes: 256 * 1024, maxHeaderLines: 1000, maxParts: 1000, maxDepth: 50 }

async function scan(raw: string | Buffer, opts: Partial<MessageScanOptions> = {}) {
  const report = await scanMessage(Readable.from([Buffer.from(raw)]), { policy, archives, maxTextChars: 1000, mime, ...opts })
  return {
    blocked: report.blocked.map((b) => `${b.path.join(' > ')}: ${b.block.reason} ${b.block.value}`),
    issues: report.issues.map((i) => `${i.path.join(' > ')}: ${i.problem}`),
    details: report.issues.map((i) => i.detail),
    texts: report.texts,
  }
}

const message = (attachments: Attachment[], extra: { text?: string; html?: string } = {}) =>
  mimeMessage({ from: 'a@sender.test', to: 'b@example.com', attachments, ...extra }).text

describe('MessageScan', () => {
  it('passes a message with harmless attachments and keeps its text for the rules', async () => {
    const r = await scan(message([{ filename: 'report.pdf', contentType: 'application/pdf', data: samplePdf() }], { text: 'Hello there', html: '<p>Hi</p>' }))
    expect(r.blocked).toEqual([])
    expect(r.issues).toEqual([])
    expect(r.texts.map((t) => t.trim())).toEqual(['Hello there', '<p>Hi</p>'])
  })

  it('blocks by extension, in any header, in any case, with tricks', async () => {
    const r = await scan(
      message([
        { filename: 'invoice.pdf.EXE', contentType: 'application/octet-stream', data: 'x' },
        { filename: 'ok.txt', contentType: 'application/octet-stream; name="run.js"', data: 'x', disposition: 'attachment' },
        { contentType: 'application/octet-stream', data: 'x', headers: ["Content-Disposition: attachment; filename*=UTF-8''evil%2Escr"], disposition: 'none' },
        { filename: 'trailing.vbs. ', contentType: 'application/octet-stream', data: 'x' },
      ]),
    )
    expect(r.blocked).toEqual([
      'invoice.pdf.EXE: extension exe',
      'ok.txt: extension js',
      'evil.scr: extension scr',
      'trailing.vbs.: extension vbs',
    ])
  })

  it('blocks by declared MIME type, and Windows programs by content whatever their name', async () => {
    const r = await scan(
      message([
        { filename: 'setup.bin', contentType: 'application/x-msdownload', data: 'x' },
        { filename: 'invoice.pdf', contentType: 'application/pdf', data: fakeWindowsProgram() },
      ]),
    )
    // names and types when a part's header is read, its content once its data is
    expect(r.blocked).toEqual(['setup.bin: mime_type application/x-msdownload', 'invoice.pdf: windows_executable PE'])
  })

  it('checks the name of an inline text part (text/plain named .js)', async () => {
    const r = await scan(message([{ filename: 'readme.js', contentType: 'text/plain', data: 'alert(1)', disposition: 'inline', encoding: 'raw' }]))
    expect(r.blocked).toEqual(['readme.js: extension js'])
  })

  it('looks inside ZIP archives, nested ones, and archives with innocent names', async () => {
    const r = await scan(
      message([
        { filename: 'docs.zip', contentType: 'application/zip', data: zip([{ name: 'a/tool.exe', data: 'x' }]) },
        { filename: 'nested.zip', contentType: 'application/zip', data: zip([{ name: 'inner.zip', data: zip([{ name: 'x.lnk', data: 'x' }]) }]) },
        { filename: 'photo.jpg', contentType: 'image/jpeg', data: zip([{ name: 'run.bat', data: 'x' }]) },
        { filename: 'fine.zip', contentType: 'application/zip', data: zip([{ name: 'a.pdf', data: samplePdf() }]) },
      ]),
    )
    expect(r.blocked.sort()).toEqual(['docs.zip > a/tool.exe: extension exe', 'nested.zip > inner.zip > x.lnk: extension lnk', 'photo.jpg > run.bat: extension bat'])
    expect(r.issues).toEqual([])
  })

  it('reports archives that cannot be inspected: encrypted, corrupt, a .zip that is not one', async () => {
    const r = await scan(
      message([
        { filename: 'secret.zip', contentType: 'application/zip', data: zip([{ name: 'a.doc', data: 'x', encrypted: true }]) },
        { filename: 'broken.zip', contentType: 'application/zip', data: zip([{ name: 'a.doc', data: 'x' }]).subarray(0, 30) },
        { filename: 'fake.zip', contentType: 'application/zip', data: 'not an archive' },
      ]),
    )
    expect(r.issues).toEqual(['secret.zip: encrypted', 'broken.zip: corrupt', 'fake.zip: corrupt'])
    expect(r.blocked).toEqual([])
  })

  it('inspects a ZIP sent as an inline text part: its bytes are only transfer-decoded, never charset-converted', async () => {
    const exeZip = zip([{ name: 'run.exe', data: 'x', method: 'store' }])
    const r = await scan(message([{ filename: 'files.zip', contentType: 'text/plain', data: exeZip, disposition: 'inline' }]))
    expect(r.blocked).toEqual(['files.zip > run.exe: extension exe'])
    const notZip = await scan(message([{ filename: 'files.zip', contentType: 'text/plain', data: 'PK\x03\x04...', disposition: 'inline', encoding: 'raw' }]))
    expect(notZip.issues).toEqual(['files.zip: corrupt'])
  })

  it('opens attached messages, as attachment or inline, and checks their attachments', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', attachments: [{ filename: 'inner.exe', contentType: 'application/octet-stream', data: 'x' }] }).text
    const asAttachment = await scan(message([{ filename: 'fwd.eml', contentType: 'message/rfc822', data: inner, encoding: 'raw' }]))
    expect(asAttachment.blocked).toEqual(['fwd.eml > inner.exe: extension exe'])
    const inline = await scan(message([{ contentType: 'message/rfc822', data: inner, encoding: 'raw', disposition: 'none' }]))
    expect(inline.blocked).toEqual(['(unnamed message/rfc822) > inner.exe: extension exe'])
    // the attached message's text is not the message's own text
    expect(inline.texts).toHaveLength(1)
  })

  it('looks at nothing inside archives when inspection is off, but still checks names and content', async () => {
    const r = await scan(
      message([
        { filename: 'docs.zip', contentType: 'application/zip', data: zip([{ name: 'tool.exe', data: 'x' }]) },
        { filename: 'x.dat', contentType: 'application/octet-stream', data: fakeWindowsProgram() },
      ]),
      { archives: undefined },
    )
    expect(r).toEqual({ blocked: ['x.dat: windows_executable PE'], issues: [], details: [], texts: [expect.stringContaining('Body content-')] })
  })

  it('keeps only the first characters of each text part', async () => {
    const r = await scan(message([], { text: 'a'.repeat(5000) }), { maxTextChars: 100 })
    expect(r.texts).toEqual(['a'.repeat(100)])
  })
})

const exe: Attachment = { filename: 'evil.exe', contentType: 'application/octet-stream', data: fakeWindowsProgram() }
const blockedExe = ['evil.exe: extension exe', 'evil.exe: windows_executable PE']
const forward = (inner: string, filename = 'fwd.eml') => message([{ filename, contentType: 'message/rfc822', data: inner, encoding: 'raw' }])
/** A message with this Content-Type and body lines (CRLF). */
const raw = (contentType: string, body: string[]) => ['Subject: x', 'MIME-Version: 1.0', `Content-Type: ${contentType}`, '', ...body, ''].join('\r\n')

// The cases that made the gateway police Haraka's body parser: read now as a
// mail client reads them, with the findings the client's view gives.
describe('MessageScan: MIME read as mail clients read it', () => {
  it('takes the boundary from the boundary parameter only, not from one that merely ends in "boundary"', async () => {
    const r = await scan(mimeMessage({ from: 'a@x.test', to: 'b@x.test', contentTypeParams: 'xboundary="fake"; ', attachments: [exe] }).text)
    expect(r).toMatchObject({ blocked: blockedExe, issues: [] })
    // nor from inside a quoted value of another parameter
    const quoted = raw('multipart/mixed; name="a;boundary=fake"; boundary=real', ['--fake', '', 'x', '--real', ...attachmentPart(exe), '--real--'])
    expect(await scan(quoted)).toMatchObject({ blocked: blockedExe, issues: [] })
  })

  it('ignores a comment in the Content-Type, and reads a Content-Type folded across lines', async () => {
    const commented = raw('multipart/mixed (boundary="fake"); boundary="real"', ['--fake', '', 'x', '--real', ...attachmentPart(exe), '--real--'])
    expect(await scan(commented)).toMatchObject({ blocked: blockedExe, issues: [] })
    const folded = ['Subject: x', 'Content-Type:', ' multipart/mixed;', '\tboundary=', '  "real"', '', '--real', ...attachmentPart(exe), '--real--', ''].join('\r\n')
    expect(await scan(folded)).toMatchObject({ blocked: blockedExe, issues: [] })
    const foldedName = raw('multipart/mixed; boundary=b', ['--b', 'Content-Type: application/octet-stream;', '\tname=', ' "tool.scr"', '', 'x', '--b--'])
    expect((await scan(foldedName)).blocked).toEqual(['tool.scr: extension scr'])
  })

  it('sees an .exe after a part larger than 128 KiB (no per-part buffer to overflow)', async () => {
    const big = { filename: 'big.pdf', contentType: 'application/pdf', data: Buffer.alloc(300 * 1024, 0x41) }
    const r = await scan(message([big, exe]))
    expect(r).toMatchObject({ blocked: blockedExe, issues: [] })
    // also when the big part is one unbroken line of text
    const oneLine = raw('multipart/mixed; boundary=b', ['--b', 'Content-Type: text/plain', '', 'y'.repeat(300 * 1024), '--b', ...attachmentPart(exe), '--b--'])
    expect(await scan(oneLine)).toMatchObject({ blocked: blockedExe, issues: [] })
  })

  it('decodes RFC 2231 and RFC 2047 file names', async () => {
    const r = await scan(
      message([
        { contentType: 'application/octet-stream', data: 'x', headers: ["Content-Disposition: attachment; filename*=UTF-8''evil%2Eexe"], disposition: 'none' },
        { contentType: 'application/octet-stream', data: 'x', headers: ['Content-Disposition: attachment; filename="=?UTF-8?B?aW52b2ljZS5wZGYuanM=?="'], disposition: 'none' },
        { contentType: 'application/octet-stream; name*0=run.; name*1=bat', data: 'x', disposition: 'none' },
      ]),
    )
    expect(r.blocked).toEqual(['evil.exe: extension exe', 'invoice.pdf.js: extension js', 'run.bat: extension bat'])
  })

  it('reads part headers not followed by a blank line as clients do: the name in them counts', async () => {
    const r = await scan(raw('multipart/mixed; boundary=b', ['--b', 'Content-Type: application/octet-stream; name="evil.exe"', 'TVqQAAMAAAAEAAAA', '--b--']))
    expect(r.blocked).toEqual(['evil.exe: extension exe'])
  })

  it('reports two Content-Type headers on one part: clients differ on which one they use', async () => {
    const r = await scan(`Content-Type: text/plain\r\n${raw('multipart/mixed; boundary=b', ['--b', '', 'x', '--b--'])}`)
    expect(r.issues).toEqual(['(message): malformed'])
    expect(r.details).toEqual(['more than one Content-Type header'])
  })

  it('does not report ordinary structure: nested alternative and related parts, unquoted boundaries with "="', async () => {
    const text = raw('multipart/mixed; boundary=----=_Part_0_1.2', [
      '------=_Part_0_1.2',
      'Content-Type: multipart/alternative;',
      '\tboundary="alt (not a comment)"',
      '',
      '--alt (not a comment)',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'hello',
      '--alt (not a comment)',
      'Content-Type: multipart/related; type="text/html"; boundary=rel',
      '',
      '--rel',
      'Content-Type: text/html',
      '',
      '<p>hello</p>',
      '--rel',
      ...attachmentPart({ filename: 'logo.png', contentType: 'image/png', data: 'png', disposition: 'inline' }),
      '--rel--',
      '--alt (not a comment)--',
      '------=_Part_0_1.2',
      ...attachmentPart({ filename: 'report.pdf', contentType: 'application/pdf', data: samplePdf() }),
      '------=_Part_0_1.2--',
    ])
    expect(await scan(text)).toMatchObject({ blocked: [], issues: [], texts: ['hello', '<p>hello</p>'] })
  })

  it('opens the parts of a multipart/digest: without a Content-Type they are attached messages', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', attachments: [exe] }).text
    const r = await scan(raw('multipart/digest; boundary=d', ['--d', '', inner, '--d--']))
    expect(r).toMatchObject({ blocked: blockedExe.map((b) => `(unnamed message/rfc822) > ${b}`), issues: [] })
  })

  it('reads attached messages the same way', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', contentTypeParams: 'xboundary="fake"; ', attachments: [exe] }).text
    expect(await scan(forward(inner))).toMatchObject({ blocked: blockedExe.map((b) => `fwd.eml > ${b}`), issues: [] })
  })

  it('gives the same findings however the stream is cut into chunks', async () => {
    const text = message([exe, { filename: 'docs.zip', contentType: 'application/zip', data: zip([{ name: 'a/tool.lnk', data: 'x' }]) }], { text: 'gift cards' })
    const whole = await scan(text)
    const bytes = Buffer.from(text)
    for (const size of [1, 7, 76, 4096]) {
      const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))
      const report = await scanMessage(Readable.from(chunks), { policy, archives, maxTextChars: 1000, mime })
      expect(report.blocked.map((b) => `${b.path.join(' > ')}: ${b.block.reason} ${b.block.value}`)).toEqual(whole.blocked)
      expect(report.texts).toEqual(whole.texts)
    }
    expect(whole.blocked).toEqual([...blockedExe, 'docs.zip > a/tool.lnk: extension lnk'])
  })

  it('decodes text parts by their charset for the rules', async () => {
    const latin1 = raw('text/plain; charset=iso-8859-1', [Buffer.from('Gr\u00fc\u00dfe', 'latin1').toString('latin1')])
    expect((await scan(Buffer.from(latin1, 'latin1'))).texts).toEqual(['Gr\u00fc\u00dfe\r\n'])
    const qp = raw('text/plain; charset=utf-8', []).replace('\r\n\r\n', '\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGift=20cards=\r\n please\r\n')
    expect((await scan(qp)).texts).toEqual(['Gift cards please\r\n'])
  })
})

describe('MessageScan: reading limits (a message past one is reported, never passed as clean)', () => {
  it('stops at nesting deeper than max_depth; nesting up to it is inspected', async () => {
    const deep = await scan(deeplyNested(51, exe))
    expect(deep).toMatchObject({ blocked: [], issues: ['(message): limits'], details: ['message not read to the end: MIME parts nested deeper than 50'] })
    expect(await scan(deeplyNested(50, exe))).toMatchObject({ blocked: blockedExe, issues: [] })
  })

  it('stops at a header over max_header_lines lines or max_header_bytes bytes, of the message or of a part', async () => {
    const lines = await scan(mimeMessage({ from: 'a@x.test', to: 'b@x.test', headers: Array.from({ length: 1000 }, (_, i) => `X-Filler-${i}: x`), attachments: [exe] }).text)
    expect(lines).toMatchObject({ blocked: [], issues: ['(message): limits'] })
    expect(lines.details[0]).toMatch(/^message not read to the end: a MIME header of 10\d\d lines \(more than 1000\)$/)

    const inPart = raw('multipart/mixed; boundary=b', ['--b', ...Array.from({ length: 1001 }, (_, i) => `X-Filler-${i}: x`), '', 'x', '--b', ...attachmentPart(exe), '--b--'])
    expect(await scan(inPart)).toMatchObject({ blocked: [], issues: ['(message): limits'] })

    const longLine = await scan(`X-Long: ${'y'.repeat(300 * 1024)}\r\n${raw('text/plain', ['x'])}`)
    expect(longLine).toMatchObject({ issues: ['(message): limits'], details: ['message not read to the end: a MIME header over 262144 bytes'] })
  })

  it('stops at more than max_parts parts: 20,000 boundary lines cost 1000 parts, not 20,000', async () => {
    const r = await scan(`Subject: flood\r\n${boundaryFlood(20_000)}`)
    expect(r).toMatchObject({ issues: ['(message): limits'], details: ['message not read to the end: more than 1000 MIME parts'] })
    expect((await scan(message([exe]), { mime: { ...mime, maxParts: 2 } })).issues).toEqual(['(message): limits'])
    expect((await scan(message([exe]), { mime: { ...mime, maxParts: 3 } })).issues).toEqual([])
  })

  it('stops the read of an attached message full of boundary lines at the part budget', async () => {
    const r = await scan(forward(boundaryFlood(20_000)))
    expect(r.issues).toEqual(['fwd.eml: limits'])
    expect(r.details).toEqual(['attached message not read to the end: more than 1000 MIME parts in attached messages'])
  })

  it('shares the part budget over all attached messages of the message', async () => {
    const inner = (n: number) => raw('multipart/mixed; boundary=b', [...Array.from({ length: n }, () => ['--b', '', 'x']).flat(), '--b--'])
    const two = message([
      { filename: 'one.eml', contentType: 'message/rfc822', data: inner(6), encoding: 'raw' },
      { filename: 'two.eml', contentType: 'message/rfc822', data: inner(6), encoding: 'raw' },
    ])
    // each alone fits (1 + 6 parts); together they do not
    expect((await scan(two, { archives: { ...archives, maxParts: 14 } })).issues).toEqual([])
    expect((await scan(two, { archives: { ...archives, maxParts: 13 } })).issues).toEqual(['two.eml: limits'])
  })

  it('does not read an attached message larger than the remaining byte budget, or past a header limit', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', attachments: [exe] }).text
    const small = await scan(forward(inner), { archives: { ...archives, maxBytes: 100 } })
    expect(small.issues).toEqual(['fwd.eml: limits'])
    expect(small.details[0]).toMatch(/^attached message larger than the remaining budget/)
    const header = await scan(forward(`${'X-Filler: y\r\n'.repeat(2000)}\r\nhello\r\n`))
    expect(header.issues).toEqual(['fwd.eml: limits'])
    expect(header.details).toEqual(['attached message not read to the end: a MIME header of 2000 lines (more than 1000)'])
  })

  it('reports an attachment to look into that is larger than max_archive_bytes, and still judges its first bytes', async () => {
    const bigZip = zip([{ name: 'a.bin', data: Buffer.alloc(2 * 1024 * 1024, 1), method: 'store' }])
    const r = await scan(message([{ filename: 'big.zip', contentType: 'application/zip', data: bigZip }]))
    expect(r).toMatchObject({ blocked: [], issues: ['big.zip: limits'], details: ['larger than 1048576 bytes'] })
  })
})
