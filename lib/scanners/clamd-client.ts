// A clamd client: streams a message to clamd with INSTREAM over TCP or a unix
// socket and returns its verdict. Every way this can go wrong (no clamd, a hung
// clamd, a broken connection, a message over clamd's StreamMaxLength, an ERROR
// answer) rejects with a ClamdError within the time allowed: a scan never hangs
// and never turns a failure into "clean".

import { once } from 'node:events'
import net from 'node:net'
import type { Readable } from 'node:stream'

import {
  ClamdError,
  END_OF_STREAM,
  formatClamdAddress,
  frames,
  INSTREAM,
  parsePingReply,
  parseScanReply,
  PING,
  ReplyReader,
  type ClamdAddress,
  type ScanResult,
} from './clamd-protocol'

export interface ClamdOptions {
  readonly address: ClamdAddress
  /** Longest wait for the connection to be established. */
  readonly connectTimeoutMs: number
  /** Longest a whole exchange may take: connect, send, answer. */
  readonly timeoutMs: number
}

type Write = (data: Buffer) => Promise<void>

/** Scans everything `message` yields. The stream is consumed and destroyed whatever happens. */
export async function scanStream(opts: ClamdOptions, message: Readable): Promise<ScanResult> {
  try {
    const answer = await converse(opts, async (write) => {
      await write(INSTREAM)
      for await (const chunk of message) {
        for (const frame of frames(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))) await write(frame)
      }
      await write(END_OF_STREAM)
    })
    return parseScanReply(answer)
  } finally {
    // Stops the producer when clamd answered (or failed) before the end of the message.
    message.destroy()
  }
}

/** Resolves when clamd answers PING with PONG. */
export async function ping(opts: ClamdOptions): Promise<void> {
  parsePingReply(await converse(opts, (write) => write(PING)))
}

/**
 * One request and its answer on a fresh connection (clamd closes it after
 * answering). The answer may come before the request is complete (clamd stops
 * reading at StreamMaxLength and answers at once), so it is read all along.
 */
function converse(opts: ClamdOptions, talk: (write: Write) => Promise<void>): Promise<string> {
  const where = formatClamdAddress(opts.address)
  return new Promise<string>((resolve, reject) => {
    const stop = new AbortController()
    const reader = new ReplyReader()
    let connected = false
    let sent = 0
    let settled = false

    const finish = (err: ClamdError | undefined, answer?: string) => {
      if (settled) return
      settled = true
      clearTimeout(connectTimer)
      clearTimeout(deadline)
      stop.abort()
      socket.destroy()
      if (err) reject(err)
      else resolve(answer ?? '')
    }

    const socket = 'path' in opts.address ? net.connect({ path: opts.address.path }) : net.connect({ host: opts.address.host, port: opts.address.port })
    const connectTimer = setTimeout(() => finish(new ClamdError('connect', `cannot connect to clamd at ${where}: no connection within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs)
    const deadline = setTimeout(() => finish(new ClamdError('timeout', `no answer from clamd at ${where} within ${opts.timeoutMs} ms (${sent} bytes sent)`)), opts.timeoutMs)

    const write: Write = async (data) => {
      if (stop.signal.aborted) throw new ClamdError('io', 'exchange already over')
      sent += data.length
      if (!socket.write(data)) await once(socket, 'drain', { signal: stop.signal })
    }

    socket.once('connect', () => {
      connected = true
      clearTimeout(connectTimer)
      talk(write).catch((err: unknown) => finish(err instanceof ClamdError ? err : new ClamdError('io', `sending to clamd at ${where} failed: ${describe(err)}`)))
    })
    socket.on('data', (chunk: Buffer) => {
      try {
        const answer = reader.push(chunk)
        if (answer !== undefined) finish(undefined, answer)
      } catch (err) {
        finish(err as ClamdError)
      }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code ?? err.message
      if (!connected) return finish(new ClamdError('connect', `cannot connect to clamd at ${where}: ${why}`))
      // clamd closes the connection as soon as a stream exceeds StreamMaxLength; over TCP
      // its answer is often lost in the reset, so the log line says what to suspect.
      const hint = err.code === 'EPIPE' || err.code === 'ECONNRESET' ? ' (clamd drops streams longer than its StreamMaxLength)' : ''
      finish(new ClamdError('io', `connection to clamd at ${where} failed after ${sent} bytes sent: ${why}${hint}`))
    })
    socket.on('close', () => finish(new ClamdError('io', `clamd at ${where} closed the connection without an answer (${sent} bytes sent)`)))
  })
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
