// Recipient validation on the inbound instance over real SMTP: unknown
// recipients refused at RCPT (550 5.1.1), internal-only addresses, sub-addresses,
// monitor mode, and the directory-harvest defence counted in Redis (or, with
// Redis down, in the process, still across sessions).

import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { gatewayWithSink, probeRecipients, type Fixture } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import { TestRedis } from './helpers/redis-server'

const VALID = ['alice@example.com', 'bob@example.com', 'all-staff@example.com', '# comment', '*@catchall.example'].join('\n')

/** A gateway (and its internal server) for the current describe block, with this gateway-recipients.ini. */
function gatewayWith(ini: string): Fixture {
  return gatewayWithSink({
    acceptedDomains: ['example.com', 'other.example', 'catchall.example'],
    files: { 'inbound/config/valid_recipients': `${VALID}\n`, 'inbound/config/gateway-recipients.ini': ini },
  })
}

describe('recipient validation', () => {
  const { gw, sink } = gatewayWith('[internal_only]\naddresses[]=all-staff@example.com\n[harvest]\nslow_after=100\nblock_after=200\n')

  it('accepts listed recipients (any case, with sub-address) and refuses unknown ones with 550 5.1.1 before DATA', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    await client.send('MAIL FROM:<x@sender.test>')
    const answers = []
    for (const to of ['alice@example.com', 'Alice@EXAMPLE.com', 'bob+news@example.com', 'mallory@example.com', 'anyone@catchall.example', 'anyone@other.example']) {
      const r = await client.send(`RCPT TO:<${to}>`)
      answers.push([to, r.code, r.enhanced])
    }
    expect(answers).toEqual([
      ['alice@example.com', 250, ''],
      ['Alice@EXAMPLE.com', 250, ''],
      ['bob+news@example.com', 250, ''],
      ['mallory@example.com', 550, '5.1.1'],
      ['anyone@catchall.example', 250, ''],
      ['anyone@other.example', 250, ''], // domain without a list: not validated
    ])
    const { text, marker } = testMessage({ from: 'x@sender.test', to: 'alice@example.com' })
    const { end } = await client.data(text)
    await client.quit()
    expect(end!.code).toBe(250)
    // Haraka delivers one copy per recipient domain
    const copies = (await sink.waitFor(3)).filter((m) => m.raw.includes(marker))
    const delivered = new Set(copies.flatMap((m) => m.to.map((a) => a.toLowerCase())))
    expect([...delivered].sort()).toEqual(['alice@example.com', 'anyone@catchall.example', 'anyone@other.example', 'bob+news@example.com'])
  })

  it('refuses Internet mail to internal-only addresses with 550 5.7.1, however the address is spelled', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    await client.send('MAIL FROM:<x@sender.test>')
    for (const to of ['all-staff@example.com', '"all-staff"@example.com', 'ALL-STAFF@EXAMPLE.COM']) {
      const r = await client.send(`RCPT TO:<${to}>`)
      expect([to, r.code, r.enhanced]).toEqual([to, 550, '5.7.1'])
    }
    // routing syntax the internal server might act on is refused for our domains
    for (const to of ['all-staff%example.com@example.com', 'host!all-staff@example.com']) {
      const r = await client.send(`RCPT TO:<${to}>`)
      expect([to, r.code, r.enhanced]).toEqual([to, 550, '5.1.3'])
    }
    // a quoted spelling of a valid mailbox is that mailbox
    expect((await client.send('RCPT TO:<"bob"@example.com>')).code).toBe(250)
    await client.quit()
  })

  it('is immune to prototype names as local parts and domains', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    await client.send('MAIL FROM:<x@sender.test>')
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const r = await client.send(`RCPT TO:<${name}@example.com>`)
      expect([name, r.code, r.enhanced]).toEqual([name, 550, '5.1.1'])
    }
    await client.quit()
  })
})

describe('recipient validation in monitor mode', () => {
  const { gw, sink } = gatewayWith('[main]\naction=monitor\n')

  it('accepts the unknown recipient, records what it would have done, and does not count it as probing', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const { text, marker } = testMessage({ from: 'x@sender.test', to: 'mallory@example.com' })
    const r = await sendMail(client, { from: 'x@sender.test', to: ['mallory@example.com'] }, text)
    await client.quit()
    expect([r.rcpts[0]!.code, r.end!.code]).toEqual([250, 250])
    const msg = (await sink.waitFor(1)).find((m) => m.raw.includes(marker))!
    expect(msg.raw).toMatch(/^X-Gateway-Checks: recipient=unknown \(monitor\)\r$/m)
    await gw.waitForLog('inbound', /\[gateway-recipients\] decision check=recipient result=unknown action=monitor/)
  })
})

describe('directory-harvest defence', () => {
  const { gw, sink, block } = gatewayWith('[harvest]\nslow_after=2\nblock_after=4\ndelay_ms=50\nwindow_seconds=60\n')
  const redis = new Redis(inject('redisUrl'))
  const prober = block.ip(66)

  afterAll(() => redis.disconnect())

  it('counts unknown recipients per client IP in Redis, then cuts the client off with 421 4.7.0, on later connections too', async () => {
    // Under load the instance's Redis connection may still be coming up: probe once from
    // another address until its count appears, so the prober's every probe is counted.
    const warmup = block.ip(65)
    for (let attempt = 0; attempt < 3 && !(await redis.exists(`${gw.redisPrefix}:harvest:${warmup}`)); attempt++) {
      const w = await gw.connect('inbound', warmup)
      await w.client.ehlo()
      await w.client.send('MAIL FROM:<x@sender.test>')
      await w.client.send('RCPT TO:<warmup@example.com>')
      await w.client.quit()
      await new Promise((r) => setTimeout(r, 300))
    }
    expect(await redis.exists(`${gw.redisPrefix}:harvest:${warmup}`)).toBe(1)

    const { client } = await gw.connect('inbound', prober)
    await client.ehlo()
    await client.send('MAIL FROM:<x@sender.test>')
    const codes = []
    for (const user of ['u1', 'u2', 'u3', 'u4']) codes.push((await client.send(`RCPT TO:<${user}@example.com>`)).code)
    // two plain refusals, one delayed refusal, then cut off
    expect(codes).toEqual([550, 550, 550, 421])
    await client.waitClosed()
    const key = `${gw.redisPrefix}:harvest:${prober}`
    expect(Number(await redis.get(key))).toBe(4)
    const ttl = await redis.ttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60)

    // the shared count refuses the next connection from that address at once
    const again = await gw.connect('inbound', prober)
    expect([again.greeting.code, again.greeting.enhanced]).toEqual([421, '4.7.0'])
    await again.client.waitClosed()

    await expectUnaffected(gw, block.ip(67))
  })
})

/** Another client address is served as usual while a prober is cut off. */
async function expectUnaffected(gw: TestGateway, ip: string): Promise<void> {
  const other = await gw.connect('inbound', ip)
  expect(other.greeting.code).toBe(220)
  await other.client.ehlo()
  await other.client.send('MAIL FROM:<x@sender.test>')
  expect((await other.client.send('RCPT TO:<alice@example.com>')).code).toBe(250)
  await other.client.quit()
}

describe('directory-harvest defence with Redis down', () => {
  const block = addressBlock()
  const redis = new TestRedis(block.ip(6), 6379)
  const { gw } = gatewayWithSink({
    block,
    redisUrl: redis.url,
    services: [redis],
    files: { 'inbound/config/valid_recipients': `${VALID}\n`, 'inbound/config/gateway-recipients.ini': '[harvest]\nslow_after=2\nblock_after=4\ndelay_ms=50\nwindow_seconds=60\n' },
  })

  it('counts in the process across sessions: a prober spreading probes over sessions is still cut off, and refused on connect', async () => {
    await redis.stop()
    const prober = block.ip(66)
    const probe = (users: string[]) => probeRecipients(gw, prober, users)
    expect(await probe(['u1', 'u2'])).toEqual([550, 550])
    // a new session does not start from zero
    expect(await probe(['u3', 'u4'])).toEqual([550, 421])
    const again = await gw.connect('inbound', prober)
    expect([again.greeting.code, again.greeting.enhanced]).toEqual([421, '4.7.0'])
    await again.client.waitClosed()

    await expectUnaffected(gw, block.ip(67))
    expect(gw.log('inbound')).toContain('harvest defence: Redis unavailable')
    expect(gw.isRunning('inbound')).toBe(true)
  })
})
