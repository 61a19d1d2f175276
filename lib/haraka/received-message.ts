// The message as received, for the quarantine: Haraka keeps only the first
// connection.ini [headers] max_lines lines of a header (haraka 3.3.4
// transaction.js add_data, line 144) and its message stream writes the header
// from that parsed list (haraka-message-stream 2.x pipe(): constructor headers
// replace the stored raw ones), so a message with a longer header would be
// stored without the rest, silently. The stream still holds every line as
// received; this reads them and puts the dropped lines back where they were:
// after the last of the sender's own header fields, before any field a plugin
// appended. Fields the gateway prepended (Received, X-Gateway-*) or removed
// (header firewall) stay as the stream writes them.
// Internals used: MessageStream.headers (the constructor's header list, read
// synchronously by pipe()), Transaction.header_lines / header.header_list /
// cfg.headers.max_lines, and the Header class (a fresh parse of header_lines
// tells the sender's fields from the ones added later).

import { PassThrough, Readable } from 'node:stream'

/** What of haraka-message-stream 2.x this needs. */
interface MessageStream {
  headers: string[]
  pipe(destination: NodeJS.WritableStream): unknown
}

interface HeaderObject {
  header_list: string[]
}

/** What of Haraka's Transaction this needs (haraka 3.3.4). */
export interface ReceivedTransaction {
  readonly message_stream: unknown
  readonly header_lines: readonly string[]
  readonly header: unknown
  readonly cfg?: { headers?: { max_lines?: unknown } }
}

/**
 * The message as Haraka would deliver it (dot-stuffing removed), with the header
 * lines Haraka dropped past [headers] max_lines put back: what the sender sent,
 * byte for byte, plus the fields the gateway added.
 */
export async function receivedMessage(txn: ReceivedTransaction): Promise<Readable> {
  const stream = txn.message_stream as MessageStream
  const max = Number(txn.cfg?.headers?.max_lines) || 1000 // transaction.js's own default
  if (txn.header_lines.length < max) return piped(stream)

  const raw = await readAll(piped(stream, { withoutParsedHeader: true }))
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) return piped(stream) // no end of header: Haraka's own fallback split it; nothing to restore
  const rawLines = splitLines(raw.subarray(0, end + 2).toString('utf8')) // Haraka decodes header_lines as UTF-8 too
  // an entry of header_lines is one received line, or more when added as one (the gateway's Received field)
  const kept = txn.header_lines.reduce((n, line) => n + (line.match(/\n/g)?.length ?? 0), 0)
  const dropped = rawLines.slice(kept)
  const header = txn.header as HeaderObject
  const list = restore(header.header_list, senderFields(header, txn.header_lines), dropped)
  const head = Buffer.from(list.map((h) => h.replace(/\r?\n/g, '\r\n')).join(''), 'utf8')
  return Readable.from([Buffer.concat([head, raw.subarray(end + 2)])])
}

/** The header fields the sender's first lines make, parsed as Haraka parsed them. */
function senderFields(header: HeaderObject, lines: readonly string[]): string[] {
  const HeaderClass = header.constructor as new () => HeaderObject & { parse(lines: readonly string[]): void }
  const fresh = new HeaderClass()
  fresh.parse(lines)
  return fresh.header_list
}

/** `list` with `dropped` (raw lines, CRLF) after the last of the sender's fields still in it; a copy. */
export function restore(list: readonly string[], sender: readonly string[], dropped: readonly string[]): string[] {
  // the sender's fields appear in `list` in their order, some removed, others added around them
  let at = -1
  let next = 0
  for (let i = 0; i < list.length && next < sender.length; i++) {
    const j = sender.indexOf(list[i]!, next)
    if (j >= 0) {
      at = i
      next = j + 1
    }
  }
  // the field cut at the limit is the sender's last one; a plugin may have removed it (then its rest goes too)
  const cutKept = next === sender.length && at >= 0
  const out = [...list]
  const fields: string[] = []
  for (const line of dropped) {
    // a folded continuation belongs to the field before it (the one cut at the limit, for the first)
    if (!/^[ \t]/.test(line)) fields.push(line)
    else if (fields.length > 0) fields[fields.length - 1] += line
    else if (cutKept) out[at] += line
  }
  out.splice(at + 1, 0, ...fields)
  return out
}

function piped(stream: MessageStream, opts: { withoutParsedHeader?: boolean } = {}): PassThrough {
  const out = new PassThrough()
  if (!opts.withoutParsedHeader) {
    stream.pipe(out)
    return out
  }
  // pipe() decides synchronously whether to write the parsed header instead of the stored one
  const parsed = stream.headers
  stream.headers = []
  try {
    stream.pipe(out)
  } finally {
    stream.headers = parsed
  }
  return out
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
  return Buffer.concat(chunks)
}

function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? []
}
