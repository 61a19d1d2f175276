// Per-transaction override of haraka-message-stream's pipe(), so that header
// fields holding 8-bit bytes that are not UTF-8 (a raw Latin-1 "Subject: caf\xe9")
// leave the gateway exactly as they arrived.
//
// Why no hook or setting can do it (checked against haraka 3.3.4 and
// haraka-message-stream 2.0.8): transaction.js add_data (line 148) decodes each
// header line with the transaction's encoding (UTF-8), so an invalid byte becomes
// U+FFFD in header.header_list; pipe() (index.js line 289) then writes the header
// from that list with Buffer.from(), never from the bytes received. Decoding as
// 'binary' instead (what Haraka does after HELO) would change what every plugin
// reads in headers and double-encode valid UTF-8 on output.
//
// What it relies on: pipe(destination, options) writes the header fields first,
// each as Buffer.from(field with every newline replaced by options.line_endings),
// then options.line_endings once; options.skip_headers leaves the header out; the
// message stream is the transaction's own object (an own property shadows the
// prototype's pipe for that transaction only).
// Test: test/security/message-integrity.test.ts "relays 8-bit header bytes as received".

import { Transform, type TransformCallback } from 'node:stream'

import type { HarakaInternal } from './internal'

export const MESSAGE_STREAM_PIPE: HarakaInternal = {
  module: 'haraka-message-stream',
  member: ['prototype', 'pipe'],
  kind: 'function',
  usedBy: 'gateway-message-syntax (8-bit header bytes relayed as received)',
}

/** One header field as received (CRLF line ends) that Haraka's UTF-8 decoding altered. */
export interface ReceivedField {
  readonly original: Buffer
}

type PipeOptions = { line_endings?: string; skip_headers?: boolean; end?: boolean } & Record<string, unknown>
type Pipe = (destination: NodeJS.WritableStream, options?: PipeOptions) => NodeJS.WritableStream

const restored = new WeakMap<object, ReceivedField[]>()

/**
 * Notes a received header field whose bytes are not valid UTF-8; on the first,
 * installs the override on this transaction's message stream. Fields a plugin
 * changed or removed are written as Haraka has them (their bytes are no longer
 * the sender's).
 */
export function keepHeaderBytes(txn: Haraka.Transaction, field: ReceivedField): void {
  const stream = txn.message_stream as unknown as { pipe: Pipe }
  const fields = restored.get(stream)
  if (fields) {
    fields.push(field)
    return
  }
  const list = [field]
  restored.set(stream, list)
  const haraka = stream.pipe.bind(stream)
  stream.pipe = (destination, options = {}) => {
    if (options.skip_headers) return haraka(destination, options)
    const eol = options.line_endings ?? '\r\n'
    const restore = new HeaderBytes(
      list.map((f) => ({ written: Buffer.from(withEol(f.original.toString('utf8'), eol)), original: Buffer.from(withEol(f.original.toString('latin1'), eol), 'latin1') })),
      Buffer.from(eol + eol),
    )
    restore.pipe(destination, { end: options.end !== false })
    // Haraka's pipe() ends its read (and allows the next pipe()) when its destination
    // closes or fails: a reader that gives up early must still release it.
    const release = () => restore.destroy()
    destination.once('close', release)
    destination.once('error', release)
    restore.once('close', () => {
      destination.removeListener('close', release)
      destination.removeListener('error', release)
    })
    haraka(restore, { ...options, end: true })
    return destination
  }
}

function withEol(s: string, eol: string): string {
  return s.replace(/\r?\n/g, eol)
}

/** Largest header section it rewrites; beyond it the bytes pass unchanged (Haraka's max_lines bounds it far lower). */
const MAX_HEADER_BYTES = 1024 * 1024

/**
 * Passes the stream through, replacing in the header section (up to the first
 * empty line) each field as Haraka wrote it with the bytes received.
 */
class HeaderBytes extends Transform {
  private head: Buffer[] = []
  private headBytes = 0
  private done = false

  constructor(
    private readonly fields: readonly { written: Buffer; original: Buffer }[],
    private readonly endOfHeader: Buffer,
  ) {
    super()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.done) return cb(null, chunk)
    this.head.push(chunk)
    this.headBytes += chunk.length
    const all = Buffer.concat(this.head)
    const end = all.indexOf(this.endOfHeader)
    if (end === -1 && this.headBytes < MAX_HEADER_BYTES) return cb()
    this.done = true
    this.head = []
    if (end === -1) return cb(null, all)
    cb(null, Buffer.concat([this.rewrite(all.subarray(0, end)), all.subarray(end)]))
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.done ? undefined : Buffer.concat(this.head))
  }

  private rewrite(header: Buffer): Buffer {
    let out = header
    for (const f of this.fields) {
      // a field starts a line: at the start of the header or after a line end
      const at = out.indexOf(f.written)
      if (at === -1 || (at > 0 && out[at - 1] !== 0x0a)) continue
      out = Buffer.concat([out.subarray(0, at), f.original, out.subarray(at + f.written.length)])
    }
    return out
  }
}
