// Faults delay, they never lose or crash: Redis going away does not stop mail
// (and its counters catch up afterwards), and a plugin hook that throws, rejects
// or hangs answers 451 4.3.0 with a log line naming the plugin, while the
// process keeps serving.

import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { delivered, gatewayWithSink, sendOne } from './helpers/fixtures'
import { shippedInboundPlugins, type TestGateway } from './helpers/gateway'
import type { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'
import { TestRedis } from './helpers/redis-server'
import { waitForCounters } from './helpers/stats-counters'

async function deliverOne(gw: TestGateway, sink: MailSink, to = 'bob@example.com'): Promise<void> {
  const { end, marker } = await sendOne(gw, { from: 'alice@sender.test', to: [to] })
  expect(end?.code).toBe(250)
  await delivered(sink, marker)
}

/** The inbound counters summed since `since`, once `field` reached `value` (they are flushed every second). */
async function waitForCounter(redis: TestRedis, prefix: string, since: Date, field: string, value: number): Promise<Map<string, number>> {
  const client = redis.client()
  try {
    const c = await waitForCounters(client, prefix, 'inbound', since, (c) => (c.get(field) ?? 0) >= value, 20_000)
    if ((c.get(field) ?? 0) < value) throw new Error(`${prefix} inbound ${field} stayed at ${c.get(field) ?? 0}, expected ${value}`)
    return c
  } finally {
    client.disconnect()
  }
}

describe('Redis outage', () => {
  const block = addressBlock()
  // Redis is DOWN when the gateway starts: its address is set, nothing listens yet
  const redis = new TestRedis(block.ip(6), 6379)
  const { gw, sink } = gatewayWithSink({
    block,
    redisUrl: redis.url,
    services: [{ start: async () => {}, stop: () => redis.stop() }], // the test starts it
  })

  it('keeps mail flowing while Redis is down, logs it, and writes the counters once Redis is back', async () => {
    const since = new Date()
    await deliverOne(gw, sink)
    await gw.waitForLog('inbound', /\[gateway-stats\] redis unavailable/)
    // wait until a flush holding this message's counts has failed, so the outage is really exercised
    await gw.waitForLog('inbound', /counters and tracking kept in memory until Redis is back/)
    expect(gw.isRunning('inbound')).toBe(true)

    await redis.start()
    const counters = await waitForCounter(redis, gw.redisPrefix, since, 'messages_accepted', 1)
    expect(counters.get('connections')).toBe(1)
    expect(counters.get('redis_write_failures')).toBeGreaterThan(0) // the outage itself is counted

    // Redis dies again while the gateway runs: still no effect on mail. The test
    // Redis keeps no data, so the new one starts empty: what appears there is
    // exactly what the gateway counted while Redis was gone.
    await redis.stop()
    await deliverOne(gw, sink)
    await redis.start()
    const after = await waitForCounter(redis, gw.redisPrefix, since, 'messages_accepted', 1)
    expect([after.get('messages_accepted'), after.get('connections')]).toEqual([1, 1])
    expect(gw.isRunning('inbound')).toBe(true)
  })
})

describe('a failing hook is a temporary failure, never a pass or a crash', () => {
  // A test-only plugin built on the same adapter as the gateway's own plugins:
  // its RCPT hook throws, rejects or hangs depending on the recipient.
  const faultyPlugin = `
    const { definePlugin } = require(${JSON.stringify(path.join(GATEWAY_ROOT, 'dist', 'lib', 'plugin', 'define.js'))})
    module.exports = definePlugin({
      name: 'test-faulty',
      instances: ['inbound'],
      hooks: ['rcpt'],
      hookTimeoutMs: 500,
      setup: () => ({ hooks: { rcpt(c, txn, [rcpt]) {
        if (rcpt.user === 'throw') throw new Error('boom (sync)')
        if (rcpt.user === 'reject') return Promise.reject(new Error('boom (async)'))
        if (rcpt.user === 'hang') return new Promise(() => {})
        return undefined
      } } }),
    })`
  const plugins = shippedInboundPlugins().replace('gateway-accepted-domains', 'test-faulty\ngateway-accepted-domains')
  const { gw, sink } = gatewayWithSink({
    files: {
      'inbound/plugins/test-faulty/package.json': '{ "name": "test-faulty", "main": "index.js" }',
      'inbound/plugins/test-faulty/index.js': faultyPlugin,
      'inbound/config/plugins': plugins,
    },
  })

  for (const [user, logged] of [
    ['throw', /\[test-faulty\] hook rcpt failed: Error: boom \(sync\)/],
    ['reject', /\[test-faulty\] hook rcpt failed: Error: boom \(async\)/],
    ['hang', /\[test-faulty\] hook rcpt timed out after 500 ms/],
  ] as const) {
    it(`a hook that does "${user}" gets 451 4.3.0 and a log line naming the plugin`, async () => {
      const { client } = await gw.connect('inbound')
      await client.ehlo()
      await client.send('MAIL FROM:<a@sender.test>')
      const r = await client.send(`RCPT TO:<${user}@example.com>`)
      expect([r.code, r.enhanced, r.text]).toEqual([451, '4.3.0', '4.3.0 Temporary local problem, please try again later'])
      await gw.waitForLog('inbound', logged)
      // the session and the process carry on
      expect((await client.send('RCPT TO:<fine@example.com>')).code).toBe(250)
      await client.quit()
      expect(gw.isRunning('inbound')).toBe(true)
    })
  }

  it('still delivers mail afterwards', async () => {
    await deliverOne(gw, sink, 'fine@example.com')
  })
})

describe('a disk without room defers mail instead of accepting it', () => {
  // min_free_mb far above any real disk: the real free-space check must refuse
  const { gw, sink } = gatewayWithSink({ files: { 'inbound/config/gateway-spool.ini': '[queue]\nmin_free_mb=1000000000\n' } })

  it('answers 4xx 4.3.1 after DATA, writes nothing to the queue and delivers nothing', async () => {
    const r = await sendOne(gw, { from: 'alice@sender.test', to: ['bob@example.com'] })
    expect(Math.floor(r.end!.code / 100)).toBe(4)
    expect(r.end!.enhanced).toBe('4.3.1')
    expect(gw.queueFiles('inbound')).toEqual([])
    await gw.waitForLog('inbound', /\[gateway-spool\] not enough free space/)
    expect(sink.messages.some((m) => m.raw.includes(r.marker))).toBe(false)
  })
})

describe('the internal server refuses a message the gateway already accepted', () => {
  const { gw, sink } = gatewayWithSink()

  it('reports it to the internal postmaster, never back to the (possibly forged) Internet sender', async () => {
    sink.failFor = (to) => (to.includes('gone@example.com') ? { code: 550, text: '5.1.1 gone@example.com: no such user here (exch01.corp.local)' } : undefined)
    const r = await sendOne(gw, { from: 'someone@forged.test', to: ['gone@example.com'] })
    expect(r.end!.code).toBe(250)
    const dsn = await delivered(sink, r.marker) // the report quotes the original message's headers
    expect(dsn.from).toBe('')
    expect(dsn.to).toEqual(['postmaster@example.com'])
    expect(dsn.raw).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status/m)
    expect(dsn.raw).toMatch(/^Final-Recipient: rfc822; ?gone@example\.com/m)
    expect(dsn.raw).toMatch(/^Status: 5\.1\.1/m)
    await gw.waitForLog('inbound', /DSN for someone@forged\.test \(outside the accepted domains\) goes to postmaster@example\.com/)
  })
})
