// The Prometheus endpoint of real instances: a scrape shows exactly the traffic
// that happened (and the same numbers as the Redis counters), per instance, with
// bounded labels; in Haraka's cluster mode one scrape of the master is the sum of
// its workers; a non-loopback address without a token, or an address in use,
// stops startup with one line; `off` serves nothing and mail flows.
//
// Needs lib/redis/shared-batch.ts count() to call notifyCount(field, by)
// (lib/metrics/observe.ts): without it the endpoint serves only zeros.

import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it, vi } from 'vitest'

import { mapCount } from '../lib/metrics/catalog'
import { addUser, outboundWithPartnerMx, sendOne } from './helpers/fixtures'
import { sendMail, testMessage, type Instance, type TestGateway } from './helpers/gateway'
import { gatewayCounters, metricsAddresses, metricsFiles, samples, scrape, seriesKey, valueOf } from './helpers/metrics'
import { relayOne } from './helpers/outbound-relay'
import { waitForCounters } from './helpers/stats-counters'

const f = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  files: (block) => metricsFiles(block),
  prepare: ({ gw }) => addUser(gw, 'relay', 'relay-password'),
})
const at = metricsAddresses(f.block)
const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

const PROM_TEXT = 'text/plain; version=0.0.4; charset=utf-8'
const SMTP_INI = '[main]\ngraceful_shutdown=true\nforce_shutdown_timeout=1\n'

/**
 * Counters the write batch increments itself (its own failures, units dropped in
 * an outage), not through count(): they reach Redis only, so they are left out of
 * the comparison.
 */
const BATCH_FIELDS: ReadonlySet<string> = new Set(['redis_write_failures', 'tracking_records_missed', 'tracking_events_missed', 'links_updates_missed', 'bucket_units_missed', 'node_list_missed'])
const BATCH_SERIES = /^gateway_(redis_write_failures|writes_missed)_total\{/

/** The Redis counters of `instance` (since `since`) as the series they must be in a scrape. */
async function redisAsSeries(gw: TestGateway, instance: Instance, since: Date, until: (c: Map<string, number>) => boolean): Promise<Map<string, number>> {
  const counters = await waitForCounters(redis, gw.redisPrefix, instance, since, until)
  const out = new Map<string, number>()
  for (const [field, value] of counters) {
    if (BATCH_FIELDS.has(field)) continue
    const m = mapCount(field, value)
    if ('dropped' in m) throw new Error(`counter ${field} has no metric`)
    const key = seriesKey(m.metric, { ...m.labels })
    out.set(key, (out.get(key) ?? 0) + value)
  }
  return out
}

/** A scrape's non-zero gateway counters, without the write batch's own (see BATCH_FIELDS). */
async function scrapedSeries(address: string): Promise<Map<string, number>> {
  return new Map([...gatewayCounters((await scrape(address)).body)].filter(([k]) => !BATCH_SERIES.test(k)))
}

describe('one process per instance (nodes=0)', () => {
  it('scrapes exactly the inbound and outbound traffic, the same numbers as in Redis', async () => {
    const since = new Date()
    // inbound: one message, one recipient accepted and one refused (not our domain)
    const { client } = await f.gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const m = testMessage({ from: 'a@sender.test', to: 'b@example.com' })
    const r = await sendMail(client, { from: 'a@sender.test', to: ['b@example.com', 'victim@elsewhere.test'] }, m.text)
    await client.quit()
    expect(r.rcpts.map((x) => x.code)).toEqual([250, 550])
    expect(r.end?.code).toBe(250)
    // outbound: one authenticated message to the Internet, delivered to partner.test's MX
    expect((await relayOne(f.gw, { user: 'relay', password: 'relay-password', from: 'relay@example.com', to: ['x@partner.test'] })).end?.code).toBe(250)

    const inbound = await vi.waitFor(
      async () => {
        const s = await scrape(at.inbound)
        expect(valueOf(s.body, 'gateway_messages_total', { result: 'accepted' })).toBe(1)
        return s
      },
      { timeout: 15_000, interval: 200 },
    )
    expect(inbound.status).toBe(200)
    expect(inbound.contentType).toBe(PROM_TEXT)
    const body = inbound.body
    expect(valueOf(body, 'gateway_connections_total')).toBe(1)
    expect(valueOf(body, 'gateway_recipients_total', { result: 'accepted' })).toBe(1)
    expect(valueOf(body, 'gateway_recipients_total', { result: 'rejected' })).toBe(1)
    expect(valueOf(body, 'gateway_recipients_total', { result: 'tempfailed' })).toBe(0)
    expect(valueOf(body, 'gateway_messages_total', { result: 'rejected' })).toBe(0)
    expect(valueOf(body, 'gateway_sessions_rejected_total')).toBe(0)
    expect(valueOf(body, 'gateway_received_bytes_total')).toBeGreaterThanOrEqual(m.text.length)
    expect(valueOf(body, 'gateway_metrics_dropped_total', { reason: 'invalid_name' })).toBe(0)
    // labels: every gateway series says which instance and node; no address anywhere
    const own = samples(body).filter((s) => s.name.startsWith('gateway_'))
    expect(own.every((s) => s.labels.instance === 'inbound' && (s.labels.node ?? '') !== '')).toBe(true)
    expect(body).not.toMatch(/@|elsewhere\.test|sender\.test/)
    // Node's process metrics under their standard names
    expect(valueOf(body, 'process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(samples(body).some((s) => s.name === 'nodejs_heap_size_used_bytes')).toBe(true)
    expect(valueOf(body, 'gateway_processes')).toBe(1)
    // the same numbers as the Redis counters (bytes included), series for series
    const fromRedis = await redisAsSeries(f.gw, 'inbound', since, (c) => c.get('messages_accepted') === 1 && c.get('recipients_rejected') === 1 && c.get('deliveries') === 1)
    await vi.waitFor(async () => expect(await scrapedSeries(at.inbound)).toEqual(fromRedis), { timeout: 10_000, interval: 200 })

    // outbound: accepted, relayed with AUTH, delivered
    const outbound = await vi.waitFor(
      async () => {
        const s = await scrape(at.outbound)
        expect(valueOf(s.body, 'gateway_deliveries_total')).toBe(1)
        expect(valueOf(s.body, 'gateway_auth_successes_total')).toBe(1)
        return s.body
      },
      { timeout: 20_000, interval: 200 },
    )
    expect(valueOf(outbound, 'gateway_connections_total')).toBe(1)
    expect(valueOf(outbound, 'gateway_messages_total', { result: 'accepted' })).toBe(1)
    expect(valueOf(outbound, 'gateway_recipients_total', { result: 'accepted' })).toBe(1)
    expect(valueOf(outbound, 'gateway_delivered_bytes_total')).toBeGreaterThan(0)
    expect(samples(outbound).filter((s) => s.name.startsWith('gateway_')).every((s) => s.labels.instance === 'outbound')).toBe(true)
    // delivered: nothing left in the delivery queue (Haraka's own numbers, read at each scrape; Haraka
    // lowers its "delivering" count only after the delivered hook ran, so a scrape may still see 1)
    await vi.waitFor(
      async () => {
        const body = (await scrape(at.outbound)).body
        for (const state of ['delivering', 'waiting', 'retrying']) expect(valueOf(body, 'gateway_delivery_queue_items', { state }), state).toBe(0)
      },
      { timeout: 10_000, interval: 200 },
    )
    const outRedis = await redisAsSeries(f.gw, 'outbound', since, (c) => c.get('deliveries') === 1 && c.get('auth_successes') === 1)
    await vi.waitFor(async () => expect(await scrapedSeries(at.outbound)).toEqual(outRedis), { timeout: 10_000, interval: 200 })
  })

  it('serves /healthz, answers only GET, and 404 elsewhere', async () => {
    expect(await scrape(at.inbound, { path: '/healthz' })).toMatchObject({ status: 200, body: 'ok\n' })
    expect((await scrape(at.inbound, { method: 'POST' })).status).toBe(405)
    expect((await scrape(at.outbound, { path: '/' })).status).toBe(404)
  })
})

describe("Haraka's cluster mode (nodes=2)", () => {
  it('one scrape of the master gives the sum of both workers', async () => {
    const listen = `${f.block.ip(21)}:9125`
    const gw = f.another({
      instances: ['inbound'],
      files: { 'inbound/config/smtp.ini': `${SMTP_INI}nodes=2\n`, 'inbound/config/gateway-metrics.ini': `[http]\nlisten=${listen}\n` },
    })
    try {
      await gw.start()
      // both workers up (each logs its listener) before the mail: Node's cluster master then
      // hands connections to the workers round-robin (Linux default), five sessions each
      await vi.waitFor(() => expect(gw.log('inbound').match(/Listening on/g)?.length ?? 0).toBeGreaterThanOrEqual(2), { timeout: 20_000 })
      const since = new Date()
      const sent = await Promise.all(Array.from({ length: 10 }, () => sendOne(gw, { from: 'a@sender.test', to: ['b@example.com'] })))
      expect(sent.map((s) => s.end?.code)).toEqual(Array(10).fill(250))
      const body = await vi.waitFor(
        async () => {
          const s = await scrape(listen)
          expect(s.status).toBe(200)
          expect(valueOf(s.body, 'gateway_messages_total', { result: 'accepted' })).toBe(10)
          return s.body
        },
        { timeout: 15_000, interval: 200 },
      )
      expect(valueOf(body, 'gateway_connections_total')).toBe(10)
      expect(valueOf(body, 'gateway_recipients_total', { result: 'accepted' })).toBe(10)
      // once all ten are delivered to the internal server too: the same numbers as Redis
      const fromRedis = await redisAsSeries(gw, 'inbound', since, (c) => c.get('messages_accepted') === 10 && c.get('deliveries') === 10)
      await vi.waitFor(async () => expect(await scrapedSeries(listen)).toEqual(fromRedis), { timeout: 10_000, interval: 200 })
      // both workers answered the master (their process metrics are summed too)
      expect(valueOf(body, 'gateway_processes')).toBe(2)
      expect(valueOf(body, 'process_cpu_seconds_total')).toBeGreaterThan(0)
    } finally {
      await gw.stop()
    }
  })
})

describe('settings', () => {
  it('refuses a non-loopback address without a token: exit 78, one line naming the file and key', async () => {
    const r = await f.startRefused('inbound', { files: { 'inbound/config/gateway-metrics.ini': '; no token\n[http]\nlisten=0.0.0.0:9125\n' } })
    expect(r.code).toBe(78)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^gateway: configuration error: \S*gateway-metrics\.ini:3: \[http\] listen: 0\.0\.0\.0 is not a loopback address: set \[http\] token/)
  })

  it('stops startup when the address is in use: exit 69, one line naming the address, file and key', async () => {
    const taken = f.internal.address // the internal server listens there
    const r = await f.startRefused('inbound', { files: { 'inbound/config/gateway-metrics.ini': `[http]\nlisten=${taken}\n` } })
    expect(r.code).toBe(69)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`^gateway: cannot listen on ${taken.replace(/\./g, '\\.')} \\(inbound metrics endpoint, \\S*gateway-metrics\\.ini \\[http\\] listen\\): address already in use`))
  })

  it('off: no endpoint, mail flows', async () => {
    const gw = f.another({ instances: ['inbound'], files: { 'inbound/config/gateway-metrics.ini': '[http]\nlisten=off\n' } })
    try {
      await gw.start()
      expect((await sendOne(gw, { from: 'a@sender.test', to: ['b@example.com'] })).end?.code).toBe(250)
      expect(gw.log('inbound')).not.toMatch(/metrics on http/)
    } finally {
      await gw.stop()
    }
  })

  it('with a token, /metrics needs it', async () => {
    const listen = `${f.block.ip(22)}:9125`
    const token = 'scrape-token-0123456789'
    const gw = f.another({ instances: ['inbound'], files: { 'inbound/config/gateway-metrics.ini': `[http]\nlisten=${listen}\ntoken=${token}\n` } })
    try {
      await gw.start()
      expect((await scrape(listen)).status).toBe(401)
      expect((await scrape(listen, { token: `${token}x` })).status).toBe(401)
      const ok = await scrape(listen, { token })
      expect(ok.status).toBe(200)
      expect(valueOf(ok.body, 'gateway_connections_total')).toBe(0)
      expect((await scrape(listen, { path: '/healthz' })).status).toBe(200)
    } finally {
      await gw.stop()
    }
  })
})
