// The rspamd client against a local HTTP server speaking rspamd's side of the
// protocol: what it sends (envelope headers, the streamed message) and how each
// kind of failure (refused, silent, broken answer, unreadable message) ends the
// scan with an RspamdError instead of a hang. Scans by the real rspamd are
// covered end to end in test/spam.test.ts.

import http from 'node:http'
import net from 'node:net'
import { PassThrough, Readable } from 'node:stream'

import { afterEach, describe, expect, it } from 'vitest'

import { headerValue, RspamdError, scanMessage, type ScanEnvelope } from './rspamd-client'

const ANSWER = '{"score":7.1,"required_score":15.0,"action":"add header","symbols":{"TEST_RULE":{"score":7.2},"MIME_GOOD":{"score":-0.1}}}'

const envelope: ScanEnvelope = {
  ip: '192.0.2.7',
  helo: 'mx.sender.test',
  hostname: 'mx.sender.test',
  from: 'alice@sender.test',
  rcpts: ['bob@example.com', 'carol@example.com'],
  queueId: 'ABC-123',
}

interface Seen {
  method: string
  url: string
  headers: Record<string, string[]>
  body: string
}

const servers: net.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

async function listen(s: net.Server): Promise<{ host: string; port: number }> {
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return { host: '127.0.0.1', port: (s.address() as net.AddressInfo).port }
}

/** A stand-in rspamd that records the request and answers with `status` and `body`. */
async function fakeRspamd(status: number, body: string): Promise<{ server: { host: string; port: number }; seen: Promise<Seen> }> {
  let record!: (s: Seen) => void
  const seen = new Promise<Seen>((r) => (record = r))
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      record({ method: req.method!, url: req.url!, headers: req.headersDistinct as Record<string, string[]>, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(body)
    })
  })
  return { server: await listen(srv), seen }
}

const message = (text = 'Subject: hi\r\n\r\nhello\r\n') => Readable.from([Buffer.from(text)])

async function failure(p: Promise<unknown>): Promise<RspamdError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(RspamdError)
  return err as RspamdError
}

describe('scanMessage', () => {
  it('posts the message to /checkv2 with the envelope as headers, one Rcpt per recipient', async () => {
    const { server, seen } = await fakeRspamd(200, ANSWER)
    const text = `Subject: hi\r\n\r\n${'line of body text\r\n'.repeat(5000)}`
    const result = await scanMessage({ server, timeoutMs: 5000 }, envelope, message(text))
    expect(result).toEqual({ score: 7.1, requiredScore: 15, action: 'add header', symbols: ['TEST_RULE', 'MIME_GOOD'] })
    const req = await seen
    expect([req.method, req.url]).toEqual(['POST', '/checkv2'])
    expect(req.body).toBe(text)
    expect(req.headers.ip).toEqual(['192.0.2.7'])
    expect(req.headers.helo).toEqual(['mx.sender.test'])
    expect(req.headers.hostname).toEqual(['mx.sender.test'])
    expect(req.headers.from).toEqual(['alice@sender.test'])
    expect(req.headers.rcpt).toEqual(['bob@example.com', 'carol@example.com'])
    expect(req.headers['queue-id']).toEqual(['ABC-123'])
  })

  it('sends "unknown" without a reverse name and no From or Helo when there are none', async () => {
    const { server, seen } = await fakeRspamd(200, ANSWER)
    await scanMessage({ server, timeoutMs: 5000 }, { ...envelope, hostname: null, helo: null, from: '' }, message())
    const req = await seen
    expect(req.headers.hostname).toEqual(['unknown'])
    expect(req.headers.from).toBeUndefined()
    expect(req.headers.helo).toBeUndefined()
  })

  it('cannot be made to inject headers through client-supplied text', async () => {
    const { server, seen } = await fakeRspamd(200, ANSWER)
    await scanMessage({ server, timeoutMs: 5000 }, { ...envelope, helo: 'evil\r\nSettings: {"actions":{}}' }, message())
    const req = await seen
    expect(req.headers.helo).toEqual(['evilSettings: {"actions":{}}'])
    expect(req.headers.settings).toBeUndefined()
  })

  it('fails as unreachable when nothing listens', async () => {
    const s = await listen(net.createServer())
    await new Promise((r) => servers.pop()!.close(r)) // the port is now closed
    const err = await failure(scanMessage({ server: s, timeoutMs: 5000 }, envelope, message()))
    expect(err.failure).toBe('unreachable')
  })

  it('fails with a timeout when rspamd accepts the connection but never answers', async () => {
    const held: net.Socket[] = []
    const s = await listen(net.createServer((sock) => held.push(sock)))
    const err = await failure(scanMessage({ server: s, timeoutMs: 300 }, envelope, message()))
    expect(err.failure).toBe('timeout')
    for (const sock of held) sock.destroy()
  })

  it('fails when the connection drops before an answer', async () => {
    const s = await listen(net.createServer((sock) => sock.once('data', () => sock.destroy())))
    const err = await failure(scanMessage({ server: s, timeoutMs: 5000 }, envelope, message()))
    expect(err.failure).toBe('unreachable')
  })

  it.each([
    [500, '{"error":"internal error"}'],
    [200, '{"error":"cannot parse message"}'],
    [200, 'not json at all'],
    [200, '{"score":"high"}'],
  ])('fails as bad_answer on HTTP %i %s', async (status, body) => {
    const { server } = await fakeRspamd(status, body)
    const err = await failure(scanMessage({ server, timeoutMs: 5000 }, envelope, message()))
    expect(err.failure).toBe('bad_answer')
  })

  it('fails as message_error when the message cannot be read, and releases the request', async () => {
    const held: net.Socket[] = []
    const s = await listen(net.createServer((sock) => held.push(sock)))
    const source = new PassThrough()
    const scan = scanMessage({ server: s, timeoutMs: 5000 }, envelope, source)
    source.write('Subject: x\r\n')
    source.emit('error', new Error('disk read failed'))
    const err = await failure(scan)
    expect(err.failure).toBe('message_error')
    for (const sock of held) sock.destroy()
  })
})

describe('headerValue', () => {
  it('sends UTF-8 text as its bytes and drops control characters', () => {
    expect(Buffer.from(headerValue('jürgen@bücher.example'), 'latin1').toString('utf8')).toBe('jürgen@bücher.example')
    expect(headerValue('a\u0000b\tc\u007f')).toBe('abc')
  })
})
