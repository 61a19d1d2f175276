// A small client for rspamd's scan protocol: POST /checkv2 with the SMTP
// envelope in request headers (IP, Helo, Hostname, From, one Rcpt per
// recipient, Queue-Id) and the message streamed as the body. One deadline
// covers connecting, sending and reading the answer, so a scan can fail but
// never hang; every failure is an RspamdError saying which kind it was.

import http from 'node:http'

import type { HostPort } from '../net/address'
import { BadAnswerError, parseCheckResult, type CheckResult } from './rspamd-result'

export interface ScanEnvelope {
  /** The client's IP address. */
  ip: string
  /** Its HELO/EHLO name, if it gave one. */
  helo: string | null
  /** Its reverse-DNS name; null (sent as "unknown") when it has none, so rspamd does not look it up again. */
  hostname: string | null
  /** Envelope sender; empty for the null sender (bounces). */
  from: string
  rcpts: readonly string[]
  /** The gateway's id of the message, for correlating logs. */
  queueId: string
}

/** What the message can be read from: Haraka's message_stream or any Readable. */
export interface MessageSource {
  pipe(dest: NodeJS.WritableStream): unknown
  once?(event: 'error', listener: (err: Error) => void): unknown
  removeListener?(event: 'error', listener: (err: Error) => void): unknown
}

/** unreachable: no connection or it broke before an answer; message_error: the message could not be read. */
export type RspamdFailure = 'unreachable' | 'timeout' | 'bad_answer' | 'message_error'

export class RspamdError extends Error {
  override readonly name = 'RspamdError'
  constructor(
    readonly failure: RspamdFailure,
    message: string,
  ) {
    super(message)
  }
}

export interface ClientOptions {
  server: HostPort
  /** Longest a whole scan may take. */
  timeoutMs: number
}

/** A real answer is a few KiB; anything far larger is not one. */
const MAX_ANSWER_BYTES = 1024 * 1024

export function scanMessage(opts: ClientOptions, envelope: ScanEnvelope, message: MessageSource): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve, reject) => {
    let settled = false
    let answered = false
    const req = http.request({
      host: opts.server.host,
      port: opts.server.port,
      method: 'POST',
      path: '/checkv2',
      headers: requestHeaders(envelope),
      // a fresh connection per scan: no pooled socket that rspamd may have closed meanwhile
      agent: false,
    })
    const onSourceError = (err: Error) => finish(new RspamdError('message_error', `reading the message failed: ${err.message}`))
    const finish = (err: RspamdError | undefined, result?: CheckResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      message.removeListener?.('error', onSourceError)
      if (err) {
        // destroying the request also releases the message stream piped into it
        req.destroy()
        reject(err)
      } else {
        resolve(result!)
      }
    }
    const timer = setTimeout(() => finish(new RspamdError('timeout', `no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs)

    req.on('error', (err) => finish(new RspamdError(answered ? 'bad_answer' : 'unreachable', err.message)))
    req.on('response', (res) => {
      answered = true
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_ANSWER_BYTES) return finish(new RspamdError('bad_answer', `answer larger than ${MAX_ANSWER_BYTES} bytes`))
        chunks.push(chunk)
      })
      res.on('error', (err) => finish(new RspamdError('bad_answer', err.message)))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode !== 200) return finish(new RspamdError('bad_answer', `HTTP ${res.statusCode}: ${body.slice(0, 200)}`))
        try {
          finish(undefined, parseCheckResult(body))
        } catch (err) {
          finish(new RspamdError('bad_answer', err instanceof BadAnswerError ? err.message : String(err)))
        }
      })
    })
    message.once?.('error', onSourceError)
    message.pipe(req) // ends the request when the message is complete
  })
}

function requestHeaders(e: ScanEnvelope): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {
    IP: headerValue(e.ip),
    Hostname: headerValue(e.hostname || 'unknown'),
    'Queue-Id': headerValue(e.queueId),
  }
  if (e.helo) headers.Helo = headerValue(e.helo)
  if (e.from) headers.From = headerValue(e.from)
  // one "Rcpt:" line per recipient (Node writes an array as repeated header lines)
  if (e.rcpts.length > 0) headers.Rcpt = e.rcpts.map(headerValue)
  return headers
}

/**
 * Client-supplied text (HELO, SMTPUTF8 addresses) as an HTTP header value:
 * control characters dropped (no header injection, and Node would throw on
 * them), other text sent as its UTF-8 bytes, which is how rspamd reads it.
 */
export function headerValue(s: string): string {
  // eslint-disable-next-line no-control-regex
  return Buffer.from(s.replace(/[\x00-\x1f\x7f]/g, ''), 'utf8').toString('latin1')
}
