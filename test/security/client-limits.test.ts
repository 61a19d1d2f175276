// Per-client connection discipline over real SMTP (gateway-client-limits): open
// connections and new connections per client address answered 421 4.7.0 at
// connect, exempt networks, clients that talk before the greeting refused with
// 554 5.5.0, sessions ended with 421 4.7.0 after too many protocol errors or junk
// commands (AUTH LOGIN exchanges are not errors), and with 421 4.4.2 when a
// client is too slow (a command that never completes, a trickle inside DATA, a
// session kept alive past its deadline); a limit in monitor mode lets the client
// through and is counted. Limits and deadlines are set small in each gateway's
// .ini; clients connect from their own loopback addresses.

import net from 'node:net'

import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it, vi } from 'vitest'

import { base64, SmtpClient, type SmtpReply } from '../../lib/smtp/client'
import { addUser, gatewayWithSink, outboundWithPartnerMx } from '../helpers/fixtures'
import type { Instance, TestGateway } from '../helpers/gateway'
import { waitForCounters } from '../helpers/stats-counters'

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

/** Counters are read summed over the days since then: the file may run across midnight UTC. */
const FILE_STARTED = new Date()

/** gateway-client-limits.ini with every limit off except what `sections` sets. */
function limitsIni(sections: Record<string, Record<string, string | number>>): string {
  const base: Record<string, Record<string, string | number>> = {
    main: { exempt: '' },
    connections: { max_per_ip: 0, rate_per_ip: 0 },
    early_talker: { delay: '0s' },
    errors: { max: 0 },
    timeouts: { command: '0s', session: '0s', data_min_rate: 0 },
  }
  for (const [name, keys] of Object.entries(sections)) base[name] = { ...base[name], ...keys }
  return Object.entries(base)
    .map(([name, keys]) => `[${name}]\n${Object.entries(keys).map(([k, v]) => `${k}=${v}`).join('\n')}\n`)
    .join('')
}

/** A raw client: everything the server sent, and whether it closed the connection. */
class RawClient {
  received = ''
  closed = false
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => (this.received += d))
    socket.on('error', () => {})
    socket.on('close', () => (this.closed = true))
  }

  static async connect(at: { host: string; port: number }, localAddress: string): Promise<RawClient> {
    const socket = net.connect({ host: at.host, port: at.port, localAddress })
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    return new RawClient(socket)
  }

  /** Waits until the server closed the connection; returns what it sent. */
  async untilClosed(timeoutMs = 20_000): Promise<string> {
    await vi.waitFor(
      () => {
        if (!this.closed) throw new Error(`still open after ${timeoutMs} ms; received: ${JSON.stringify(this.received)}`)
      },
      { timeout: timeoutMs, interval: 50 },
    )
    return this.received
  }

  /**
   * Sends `text` one byte at a time, one every `everyMs`: the slow client under test
   * (the pace is its behaviour, not a wait for the server). Stops when the server closes.
   */
  trickle(text: string, everyMs = 500): void {
    let i = 0
    const timer = setInterval(() => {
      if (this.closed || i >= text.length) return clearInterval(timer)
      this.socket.write(text[i++]!)
    }, everyMs)
    this.socket.once('close', () => clearInterval(timer))
  }

  destroy(): void {
    this.socket.destroy()
  }
}

const replyLines = (text: string) => text.split('\r\n').filter(Boolean)

/** Opens an SMTP session from `from`; its greeting (220, or the refusal). */
async function greet(gw: TestGateway, from: string, instance: Instance = 'inbound'): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
  return gw.connect(instance, from)
}

describe('connections per client address', () => {
  const { gw, block } = gatewayWithSink({
    files: (b) => ({
      'inbound/config/gateway-client-limits.ini': limitsIni({
        main: { exempt: `${b.ip(60)}/32` },
        connections: { max_per_ip: 3, rate_per_ip: 5, rate_window: '10m' },
      }),
    }),
  })

  it('refuses the connection over max_per_ip from one address with 421 4.7.0 and closes it; others and freed slots are served', async () => {
    const from = block.ip(101)
    const open = await Promise.all([1, 2, 3].map(() => greet(gw, from)))
    expect(open.map((s) => s.greeting.code)).toEqual([220, 220, 220])
    const over = await greet(gw, from)
    expect([over.greeting.code, over.greeting.enhanced]).toEqual([421, '4.7.0'])
    expect(over.greeting.text).toMatch(/too many connections/i)
    await over.client.waitClosed()
    // another address is not affected
    const other = await greet(gw, block.ip(102))
    expect(other.greeting.code).toBe(220)
    await other.client.quit()
    // a slot freed by QUIT is free again
    await open[0]!.client.quit()
    await vi.waitFor(async () => {
      const again = await greet(gw, from)
      await again.client.quit()
      expect(again.greeting.code).toBe(220)
    }, { timeout: 10_000, interval: 100 })
    await Promise.all(open.slice(1).map((s) => s.client.quit()))
    await gw.waitForLog('inbound', /decision check=client-limit result=connections_per_ip action=reject/)
  })

  it('refuses the connection over rate_per_ip (connections per window) with 421 4.7.0', async () => {
    const from = block.ip(103)
    const codes: number[] = []
    for (let i = 0; i < 5; i++) {
      const s = await greet(gw, from)
      codes.push(s.greeting.code)
      await s.client.quit()
    }
    expect(codes).toEqual([220, 220, 220, 220, 220])
    const over = await greet(gw, from)
    expect([over.greeting.code, over.greeting.enhanced]).toEqual([421, '4.7.0'])
    await over.client.waitClosed()
    // counted in Redis, shared by every node of the gateway
    const keys = await redis.keys(`${gw.redisPrefix}:connrate:inbound:${from}`)
    expect(keys).toHaveLength(1)
    expect(Number(await redis.get(keys[0]!))).toBe(6)
    expect(await redis.ttl(keys[0]!)).toBeGreaterThan(0)
  })

  it('does not limit an exempt network', async () => {
    const from = block.ip(60)
    const sessions = await Promise.all([1, 2, 3, 4, 5, 6].map(() => greet(gw, from)))
    expect(sessions.map((s) => s.greeting.code)).toEqual([220, 220, 220, 220, 220, 220])
    await Promise.all(sessions.map((s) => s.client.quit()))
  })
})

describe('clients that talk before the greeting, and a limit in monitor mode', () => {
  const { gw, block } = gatewayWithSink({
    files: {
      'inbound/config/gateway-client-limits.ini': limitsIni({
        connections: { action: 'monitor', max_per_ip: 1 },
        early_talker: { action: 'reject', delay: '1s' },
      }),
    },
  })

  it('refuses a client that sends a command before the greeting with 554 5.5.0 and closes the connection', async () => {
    const raw = await RawClient.connect(gw.inbound, block.ip(110))
    raw.socket.write('EHLO early.test\r\n')
    const lines = replyLines(await raw.untilClosed())
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^554 5\.5\.0 /)
    await gw.waitForLog('inbound', /decision check=client-limit result=early_talker action=reject/)
  })

  it('greets a client that waits for the greeting (after the delay)', async () => {
    const { client, greeting } = await greet(gw, block.ip(111))
    expect(greeting.code).toBe(220)
    expect((await client.ehlo()).reply.code).toBe(250)
    await client.quit()
  })

  it('monitor: lets the connection over the limit through, logs and counts it', async () => {
    const from = block.ip(112)
    const first = await greet(gw, from)
    const second = await greet(gw, from)
    expect([first.greeting.code, second.greeting.code]).toEqual([220, 220])
    expect((await second.client.ehlo()).reply.code).toBe(250)
    await Promise.all([first.client.quit(), second.client.quit()])
    await gw.waitForLog('inbound', /decision check=client-limit result=connections_per_ip action=monitor/)
    const counters = await waitForCounters(redis, gw.redisPrefix, 'inbound', FILE_STARTED, (c) => (c.get('check:client-limit:monitor') ?? 0) >= 1)
    expect(counters.get('check:client-limit:monitor')).toBeGreaterThanOrEqual(1)
  })
})

describe('protocol errors and slow clients', () => {
  const { gw, block } = gatewayWithSink({
    files: {
      'inbound/config/gateway-client-limits.ini': limitsIni({
        errors: { max: 3, junk_commands: 3 },
        timeouts: { command: '2s', session: '6s', data_min_rate: 100, data_rate_window: '1s' },
      }),
    },
  })

  it('answers 421 4.7.0 and closes after max errors (unknown commands, bad syntax, bad sequence)', async () => {
    const { client } = await greet(gw, block.ip(120))
    await client.ehlo()
    const replies = [await client.send('XYZZY'), await client.send('RCPT TO:<a@example.com>'), await client.send('MAIL FROM:<<bad')]
    expect(replies.map((r) => Math.floor(r.code / 100))).toEqual([5, 5, 5])
    const last = await client.send('DATA')
    expect([last.code, last.enhanced]).toEqual([421, '4.7.0'])
    await client.waitClosed()
    await gw.waitForLog('inbound', /decision check=client-limit result=too_many_errors action=reject/)
  })

  it('counts NOOP and RSET past junk_commands as errors: a NOOP loop is cut off with 421 4.7.0', async () => {
    const { client } = await greet(gw, block.ip(121))
    await client.ehlo()
    const codes: number[] = []
    for (let i = 0; i < 7; i++) codes.push((await client.send(i % 2 ? 'RSET' : 'NOOP')).code)
    // 3 free, 3 counted as errors (still answered), the 4th error ends the session
    expect(codes).toEqual([250, 250, 250, 250, 250, 250, 421])
    await client.waitClosed()
  })

  it('ends a command that trickles in one byte at a time with 421 4.4.2 (command deadline)', async () => {
    const raw = await RawClient.connect(gw.inbound, block.ip(122))
    await vi.waitFor(() => expect(raw.received).toMatch(/^220 /), { timeout: 10_000 })
    raw.trickle('EHLO slow-client.example.test\r\n')
    const lines = replyLines(await raw.untilClosed())
    expect(lines.at(-1)).toMatch(/^421 4\.4\.2 /)
    expect(lines.some((l) => l.startsWith('250'))).toBe(false)
    await gw.waitForLog('inbound', /decision check=client-limit result=command_timeout action=reject/)
  })

  it('ends a DATA phase that trickles in one byte at a time with 421 4.4.2 (minimum data rate)', async () => {
    const raw = await RawClient.connect(gw.inbound, block.ip(123))
    const waitFor = (re: RegExp) => vi.waitFor(() => expect(raw.received).toMatch(re), { timeout: 10_000 })
    await waitFor(/^220 /)
    raw.socket.write('EHLO client.test\r\n')
    await waitFor(/\r\n250 /)
    raw.socket.write('MAIL FROM:<a@sender.test>\r\n')
    await waitFor(/\r\n250 [^\r\n]*\r\n250 /)
    raw.socket.write('RCPT TO:<alice@example.com>\r\n')
    raw.socket.write('DATA\r\n')
    await waitFor(/\r\n354 /)
    raw.trickle('Subject: slow\r\n\r\nslow body\r\n.\r\n')
    const lines = replyLines(await raw.untilClosed())
    expect(lines.at(-1)).toMatch(/^421 4\.4\.2 /)
    await gw.waitForLog('inbound', /decision check=client-limit result=data_rate action=reject/)
  })

  it('ends a session kept busy with commands past its deadline with 421 4.4.2 (session deadline)', async () => {
    const { client } = await greet(gw, block.ip(124))
    let last: SmtpReply | undefined
    // EHLO is neither an error nor a junk command: only the session deadline stops this client
    await vi.waitFor(
      async () => {
        last = await client.send('EHLO busy.example.test')
        if (last.code === 250) throw new Error('still served')
      },
      { timeout: 30_000, interval: 500 },
    )
    expect([last!.code, last!.enhanced]).toEqual([421, '4.4.2'])
    await client.waitClosed()
    await gw.waitForLog('inbound', /decision check=client-limit result=session_timeout action=reject/)
  })
})

describe('outbound: AUTH LOGIN exchanges are not errors', () => {
  const PASSWORD = 'correct horse battery'
  const { gw, block } = outboundWithPartnerMx({
    prepare: ({ gw }) => addUser(gw, 'server@example.com', PASSWORD),
    files: {
      'outbound/config/gateway-client-limits.ini': limitsIni({ errors: { max: 2 } }),
      'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
    },
  })

  it('lets AUTH LOGIN lines through uncounted and unlogged, then counts real errors', async () => {
    const { client } = await gw.connect('outbound', block.ip(130))
    await client.ehlo()
    expect((await client.startTls()).code).toBe(220)
    await client.ehlo()
    const wrong = 'Wrong-Secret-7731'
    for (const password of [wrong, wrong, PASSWORD]) {
      expect((await client.send('AUTH LOGIN')).code).toBe(334)
      expect((await client.send(base64('server@example.com'))).code).toBe(334)
      const r = await client.send(base64(password))
      expect(r.code).toBe(password === PASSWORD ? 235 : 535)
    }
    expect((await client.send('XYZZY')).code).toBe(500)
    expect((await client.send('XYZZY')).code).toBe(500)
    const last = await client.send('XYZZY')
    expect([last.code, last.enhanced]).toEqual([421, '4.7.0'])
    await client.waitClosed()
    await gw.waitForLog('outbound', /decision check=client-limit result=too_many_errors action=reject detail="errors=3 max=2"/)
    const log = gw.log('outbound')
    for (const secret of [wrong, PASSWORD]) {
      expect(log).not.toContain(base64(secret))
      expect(log).not.toContain(secret)
    }
  })
})
