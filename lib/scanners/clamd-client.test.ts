// Unit tests for the clamd client against scripted peers on unix sockets: the bytes
// it sends, and that every failure (nothing listening, silence, a dropped
// connection, an early ERROR answer) ends in a ClamdError, never a hang or "clean".
// The real clamd is exercised in test/antivirus.test.ts.

import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { PassThrough, Readable } from 'node:stream'

import { afterAll, afterEach, describe, expect, it } from 'vitest'

import { ping, scanStream, type ClamdOptions } from './clamd-client'
import { ClamdError } from './clamd-protocol'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clamd-client-'))
const servers: net.Server[] = []
let n = 0

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** A peer on a fresh unix socket (or loopback TCP port); `onConnection` scripts what it does. */
async function peer(onConnection: (socket: net.Socket) => void, transport: 'unix' | 'tcp' = 'unix'): Promise<ClamdOptions> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    onConnection(socket)
  })
  servers.push(server)
  const timeouts = { connectTimeoutMs: 1000, timeoutMs: 1500 }
  if (transport === 'tcp') {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { address: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, ...timeouts }
  }
  const socketPath = path.join(dir, `peer-${++n}.sock`)
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  return { address: { path: socketPath }, ...timeouts }
}

/** Decodes an INSTREAM request: the command, then the payload carried by the frames. */
function decodeInstream(bytes: Buffer): { command: string; payload: Buffer; terminated: boolean } | undefined {
  const command = 'zINSTREAM\0'
  if (bytes.length < command.length) return undefined
  const chunks: Buffer[] = []
  let at = command.length
  while (at + 4 <= bytes.length) {
    const length = bytes.readUInt32BE(at)
    if (length === 0) return { command: bytes.subarray(0, command.length).toString('latin1'), payload: Buffer.concat(chunks), terminated: true }
    if (at + 4 + length > bytes.length) return undefined
    chunks.push(bytes.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  return undefined
}

/** A peer that reads a whole INSTREAM request, reports it, and answers `answer`. */
async function scripted(answer: string, seen: (req: { command: string; payload: Buffer }) => void = () => {}): Promise<ClamdOptions> {
  return peer((socket) => {
    let received = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d])
      const req = decodeInstream(received)
      if (req?.terminated) {
        seen(req)
        socket.end(answer)
      }
    })
  })
}

async function failureOf(p: Promise<unknown>): Promise<ClamdError> {
  try {
    await p
  } catch (err) {
    if (err instanceof ClamdError) return err
    throw err
  }
  throw new Error('resolved instead of failing')
}

describe('scanStream', () => {
  it('sends zINSTREAM, the message in length-prefixed frames and a zero-length end; reads a clean answer', async () => {
    const message = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 256))
    let request: { command: string; payload: Buffer } | undefined
    const opts = await scripted('stream: OK\0', (req) => (request = req))
    const result = await scanStream(opts, Readable.from([message.subarray(0, 70_000), message.subarray(70_000)]))
    expect(result).toEqual({ infected: false })
    expect(request!.command).toBe('zINSTREAM\0')
    expect(request!.payload.equals(message)).toBe(true)
  })

  it('reads a FOUND answer as infected with the signature name', async () => {
    const opts = await scripted('stream: Some.Virus-1 FOUND\0')
    expect(await scanStream(opts, Readable.from([Buffer.from('x')]))).toEqual({ infected: true, signature: 'Some.Virus-1' })
  })

  it('fails with "connect" when nothing listens on the socket', async () => {
    const opts: ClamdOptions = { address: { path: path.join(dir, 'nobody.sock') }, connectTimeoutMs: 1000, timeoutMs: 1500 }
    const source = Readable.from([Buffer.from('x')])
    expect((await failureOf(scanStream(opts, source))).reason).toBe('connect')
    expect(source.destroyed).toBe(true)
  })

  it('fails with "connect" when a TCP port refuses', async () => {
    const server = net.createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as net.AddressInfo
    await new Promise((r) => server.close(r))
    const err = await failureOf(scanStream({ address: { host: '127.0.0.1', port }, connectTimeoutMs: 1000, timeoutMs: 1500 }, Readable.from([Buffer.from('x')])))
    expect(err.reason).toBe('connect')
    expect(err.message).toContain('ECONNREFUSED')
  })

  it('fails with "timeout" when clamd accepts but never answers, and stops reading the message', async () => {
    const opts = await peer((socket) => socket.resume())
    const source = new PassThrough() // a message that never ends
    source.write('From: a\r\n\r\nbody\r\n')
    const err = await failureOf(scanStream({ ...opts, timeoutMs: 300 }, source))
    expect(err.reason).toBe('timeout')
    expect(source.destroyed).toBe(true)
  })

  it('fails with "io" when clamd closes the connection without an answer', async () => {
    const opts = await peer((socket) => socket.once('data', () => socket.end()))
    expect((await failureOf(scanStream(opts, Readable.from([Buffer.from('x')])))).reason).toBe('io')
  })

  it('fails with "io" on a connection reset mid-stream', async () => {
    const opts = await peer((socket) => socket.once('data', () => socket.resetAndDestroy()), 'tcp')
    const big = Readable.from(Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 0x41)))
    expect((await failureOf(scanStream(opts, big))).reason).toBe('io')
  })

  it('takes the answer clamd sends before the stream is complete (StreamMaxLength reached) as a failure', async () => {
    const opts = await peer((socket) => {
      let got = 0
      socket.on('data', (d: Buffer) => {
        got += d.length
        if (got > 100_000 && !socket.writableEnded) socket.end('INSTREAM size limit exceeded. ERROR\0')
      })
    })
    const big = Readable.from(Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 0x41)))
    expect((await failureOf(scanStream(opts, big))).reason).toBe('size_limit')
    expect(big.destroyed).toBe(true)
  })

  it('fails with "clamd_error" on an ERROR answer and "protocol" on nonsense', async () => {
    const broken = await scripted("stream: Can't create temporary file ERROR\0")
    expect((await failureOf(scanStream(broken, Readable.from([Buffer.from('x')])))).reason).toBe('clamd_error')
    const strange = await scripted('HTTP/1.1 400 Bad Request\r\n\r\n\0')
    expect((await failureOf(scanStream(strange, Readable.from([Buffer.from('x')])))).reason).toBe('protocol')
  })

  it('fails with "io" when the message itself cannot be read', async () => {
    const opts = await peer((socket) => socket.resume())
    const source = new PassThrough()
    setTimeout(() => source.destroy(new Error('spool file vanished')), 20)
    const err = await failureOf(scanStream(opts, source))
    expect(err.reason).toBe('io')
    expect(err.message).toContain('spool file vanished')
  })
})

describe('ping', () => {
  it('resolves on PONG and fails on anything else', async () => {
    const good = await peer((socket) => socket.once('data', (d: Buffer) => socket.end(d.toString() === 'zPING\0' ? 'PONG\0' : 'UNKNOWN COMMAND\0')))
    await expect(ping(good)).resolves.toBeUndefined()
    const bad = await peer((socket) => socket.once('data', () => socket.end('stream: OK\0')))
    expect((await failureOf(ping(bad))).reason).toBe('protocol')
  })
})
