// The message as Haraka stored it and will deliver it: transaction.message_stream
// read as one stream (dot-stuffing removed, CRLF line ends, the header as
// Haraka holds it, with what earlier plugins changed), and the one way that
// header can differ from what the sender sent: Haraka keeps only the first
// connection.ini [headers] max_lines lines of it (transaction.js add_data) and
// delivers the message without the rest, silently.

import type { Readable } from 'node:stream'

import type { ArchiveIssue } from './archive-scan'
import { BatchStream } from './batch-stream'

/** What of haraka-message-stream (2.x) this needs: pipe (it refuses a second reader meanwhile) and its read errors. */
interface MessageStream {
  pipe(destination: NodeJS.WritableStream): unknown
  once(event: 'error', listener: (err: Error) => void): unknown
  removeListener(event: 'error', listener: (err: Error) => void): unknown
}

/** What of Haraka's Transaction the header check needs (haraka 3.3.4 transaction.js). */
interface HeaderLines {
  /** The header lines Haraka parsed: at most cfg.headers.max_lines. */
  readonly header_lines: readonly string[]
  readonly cfg?: { headers?: { max_lines?: unknown } }
}

/**
 * Runs `read` on the stored message and returns its result. When it settles,
 * the stream it was given is closed (read to the end or not), so the next
 * plugin can read the message again.
 */
export async function readStoredMessage<T>(stream: MessageStream, read: (message: Readable) => Promise<T>): Promise<T> {
  // Haraka hands the message over one line per chunk: gathered into large chunks
  // here, once, so no reader (MIME splitter, clamd's INSTREAM) pays per line
  const message = new BatchStream()
  // Listened for from the start: `closed` turns true before the 'close' event, and only the
  // event (where Haraka's listener runs first) says its pipe is released.
  const closed = new Promise((resolve) => message.once('close', resolve))
  // a read error of the stored message (a spool file) ends the read at once, instead of a stall
  const failed = (err: Error) => message.destroy(err)
  stream.once('error', failed)
  try {
    stream.pipe(message)
    return await read(message)
  } finally {
    stream.removeListener('error', failed)
    message.destroy() // a no-op when it was read to the end
    await closed
  }
}

/** Haraka dropped header lines of this message: parts of its header were never seen by anyone, the recipient included. */
export function droppedHeaderLines(txn: HeaderLines): ArchiveIssue | undefined {
  const max = Number(txn.cfg?.headers?.max_lines) || 1000 // transaction.js's own default
  if (txn.header_lines.length < max) return undefined
  return { problem: 'limits', path: ['(message)'], detail: `message header of ${max} lines or more: Haraka keeps the first ${max} and delivers the message without the rest` }
}
