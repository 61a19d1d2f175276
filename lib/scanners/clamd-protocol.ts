// clamd's wire protocol as pure functions: where clamd listens, the INSTREAM
// framing (each chunk prefixed with its length as 4 bytes big-endian, a zero
// length ends the stream) and the meaning of its answers. The socket I/O that
// uses them is clamd-client.ts.

import { parseHostPort } from '../net/address'

/** A unix socket (clamd.conf LocalSocket) or a TCP address (TCPAddr/TCPSocket). */
export type ClamdAddress = { readonly path: string } | { readonly host: string; readonly port: number }

/** clamd's customary TCP port. */
export const CLAMD_PORT = 3310

// The "z" prefix makes clamd end each answer with a NUL byte, so an answer is
// complete when the NUL arrives (no guessing about trailing newlines).
export const INSTREAM = Buffer.from('zINSTREAM\0', 'latin1')
export const PING = Buffer.from('zPING\0', 'latin1')
export const END_OF_STREAM = Buffer.alloc(4)

/** Largest chunk sent in one frame: clamd reads each chunk into one buffer. */
export const MAX_CHUNK = 64 * 1024

/** Longest answer accepted: a real one is a line; anything longer is a broken peer. */
export const MAX_REPLY = 4096

/** A path (absolute) is a unix socket; anything else is host[:port], port 3310 if omitted. */
export function parseClamdAddress(text: string): ClamdAddress {
  const s = text.trim()
  if (s.startsWith('/')) return { path: s }
  if (s === '') throw new Error('is empty (expected host:port or the absolute path of clamd\'s unix socket)')
  try {
    return parseHostPort(s, CLAMD_PORT)
  } catch (err) {
    throw new Error(`${(err as Error).message} (expected host:port or the absolute path of clamd's unix socket)`)
  }
}

export function formatClamdAddress(a: ClamdAddress): string {
  return 'path' in a ? a.path : a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/** The frames carrying `data`: [length, bytes] pairs of at most `max` bytes each. */
export function frames(data: Buffer, max = MAX_CHUNK): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < data.length; at += max) {
    const chunk = data.subarray(at, Math.min(at + max, data.length))
    const length = Buffer.alloc(4)
    length.writeUInt32BE(chunk.length)
    out.push(length, chunk)
  }
  return out
}

/** Why a scan produced no verdict. Every one of these means "not scanned", never "clean". */
export type ClamdFailure =
  /** clamd is not there (refused, no such socket, connect timeout). */
  | 'connect'
  /** no complete answer within the time allowed. */
  | 'timeout'
  /** the connection broke, or closed without an answer. */
  | 'io'
  /** the message is longer than clamd's StreamMaxLength. */
  | 'size_limit'
  /** clamd answered ERROR (out of memory, temp folder unwritable, ...). */
  | 'clamd_error'
  /** an answer that is not clamd's protocol. */
  | 'protocol'

export class ClamdError extends Error {
  constructor(
    readonly reason: ClamdFailure,
    message: string,
  ) {
    super(message)
    this.name = 'ClamdError'
  }
}

export type ScanResult = { readonly infected: false } | { readonly infected: true; readonly signature: string }

/** Reads one NUL-terminated answer out of the bytes clamd sends. */
export class ReplyReader {
  private buffered = Buffer.alloc(0)

  /** The complete answer (without its NUL) once it has arrived, else undefined. */
  push(chunk: Buffer): string | undefined {
    this.buffered = Buffer.concat([this.buffered, chunk])
    const end = this.buffered.indexOf(0)
    if (end >= 0) return this.buffered.subarray(0, end).toString('latin1')
    if (this.buffered.length > MAX_REPLY) throw new ClamdError('protocol', `answer longer than ${MAX_REPLY} bytes without its end`)
    return undefined
  }
}

const FOUND = /^stream: (.+) FOUND$/
// clamd answers "<file>: <virus name> FOUND"; names are short ASCII words like
// "Win.Test.EICAR_HDB-1": anything else is cut and made printable for the log.
const SIGNATURE_MAX = 200

/** The meaning of clamd's answer to INSTREAM. Throws ClamdError unless it is a verdict. */
export function parseScanReply(answer: string): ScanResult {
  const s = answer.replace(/[\0\r\n]+$/, '').trim()
  if (s === 'stream: OK') return { infected: false }
  const found = FOUND.exec(s)
  if (found) return { infected: true, signature: printable(found[1]!).slice(0, SIGNATURE_MAX) }
  if (/size limit exceeded/i.test(s)) return fail('size_limit', s)
  if (/ ERROR$/.test(s)) return fail('clamd_error', s)
  return fail('protocol', s)
}

/** clamd's answer to PING. */
export function parsePingReply(answer: string): void {
  const s = answer.replace(/[\0\r\n]+$/, '').trim()
  if (s !== 'PONG') fail('protocol', s)
}

function fail(reason: ClamdFailure, answer: string): never {
  throw new ClamdError(reason, `clamd answered ${JSON.stringify(printable(answer).slice(0, SIGNATURE_MAX))}`)
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?')
}
