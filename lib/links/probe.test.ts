// Unit tests for the SMTP greeting probe and the startup banner lines, against
// real local sockets: a 220 greeting, a 421 greeting, nothing listening, silence.
import net from 'node:net'

import { afterEach, describe, expect, it } from 'vitest'

import { probeInternalHosts, unreachableLines } from './banner'
import { probeSmtp } from './probe'

const servers: net.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A server on 127.0.0.1 that greets with `greeting` (or stays silent) and records what it got. */
async function server(greeting: string | null): Promise<{ port: number; received: string[] }> {
  const received: string[] = []
  const s = net.createServer((socket) => {
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => received.push(d))
    socket.on('error', () => {})
    if (greeting !== null) socket.write(greeting)
  })
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return { port: (s.address() as net.AddressInfo).port, received }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as net.AddressInfo
  await new Promise((r) => s.close(r))
  return port
}

describe('probeSmtp', () => {
  it('a 220 greeting (multi-line too) is a success, and QUIT is sent', async () => {
    const s = await server('220-mail.corp ESMTP\r\n220 ready\r\n')
    expect(await probeSmtp({ host: '127.0.0.1', port: s.port })).toEqual({ ok: true, reply: '220-mail.corp ESMTP 220 ready' })
    await expect.poll(() => s.received.join('')).toBe('QUIT\r\n')
  })

  it('a 421 greeting is a failure with the reply', async () => {
    const s = await server('421 4.3.2 shutting down\r\n')
    expect(await probeSmtp({ host: '127.0.0.1', port: s.port })).toEqual({ ok: false, reply: '421 4.3.2 shutting down' })
  })

  it('nothing listening: the connect error', async () => {
    expect(await probeSmtp({ host: '127.0.0.1', port: await closedPort() })).toEqual({ ok: false, reply: 'connect ECONNREFUSED' })
  })

  it('no greeting: a failure after the timeout', async () => {
    const s = await server(null)
    const started = Date.now()
    const r = await probeSmtp({ host: '127.0.0.1', port: s.port }, 300)
    expect(r).toEqual({ ok: false, reply: `no greeting within 0.3 s from 127.0.0.1:${s.port}` })
    expect(Date.now() - started).toBeLessThan(2000)
  })
})

describe('startup banner', () => {
  it('names each internal host that does not answer, none that does', async () => {
    const up = await server('220 ok\r\n')
    const down = await closedPort()
    const refusing = await server('554 no\r\n')
    const probes = await probeInternalHosts([
      { host: '127.0.0.1', port: up.port },
      { host: '127.0.0.1', port: down },
      { host: '127.0.0.1', port: refusing.port },
    ])
    expect(unreachableLines(probes)).toEqual([
      `  internal  127.0.0.1:${down} UNREACHABLE (connect ECONNREFUSED): inbound mail will wait in the queue`,
      `  internal  127.0.0.1:${refusing.port} REFUSES MAIL (greeting: 554 no): inbound mail will wait in the queue`,
    ])
  })
})
