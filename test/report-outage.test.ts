// `gateway report` through deferrals, decisions, a Redis outage and a waiting
// queue, on one gateway with its own Redis (kept on disk across a stop): a
// partner MX that tempfails once gives exactly one deferral; a quarantined and a
// monitored message give exact decision counters; N messages sent while Redis is
// down appear exactly once after it is back (counts catch up, nothing doubled);
// an internal server that is down leaves messages waiting, which the queue samples
// show (depth and the oldest message's age, in the bucket, the report and /metrics).

import fs from 'node:fs'
import path from 'node:path'

import { afterAll, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'

import { bucketOf } from '../lib/stats/buckets'
import { FixtureDns } from './helpers/dns-server'
import { addUser, delivered, gatewayWithSink, sendOne } from './helpers/fixtures'
import { MailSink } from './helpers/mail-sink'
import { metricsAddresses, scrape, valueOf } from './helpers/metrics'
import { addressBlock } from './helpers/net'
import { relayOne } from './helpers/outbound-relay'
import { PersistentTestRedis } from './helpers/persistent-redis'
import { reportJson, runReport, waitForReport } from './helpers/report-cli'
import { lastReading } from './helpers/wait'

const NODE = 'outage-node'
// a protected address whose spoofs are held in the quarantine; a block list on trial (monitor)
const SENDER_FILTER = ['[protected]', 'addresses[]=cfo@example.com', 'action=quarantine', '[blocklist]', 'senders[]=blocked.test', 'action=monitor', ''].join('\n')

const block = addressBlock()
const redis = new PersistentTestRedis(block.ip(6), 6379)
// the partner MX refuses the first DATA with 451, then accepts
let partnerFailures = 1
const partnerMx = new MailSink({ host: block.ip(10), port: 25 })
partnerMx.failFor = () => (partnerFailures-- > 0 ? { code: 451, text: '4.3.0 try again later' } : undefined)
const dns = new FixtureDns(block.ip(53), 5353)
  .add('partner.test', { type: 'MX', preference: 10, exchange: 'mx.partner.test' })
  .add('mx.partner.test', { type: 'A', data: block.ip(10) })

const { gw, sink } = gatewayWithSink({
  block,
  dns,
  instances: ['inbound', 'outbound'],
  redisUrl: redis.url,
  env: { GATEWAY_NODE_NAME: NODE },
  files: {
    'inbound/config/gateway-sender-filter.ini': SENDER_FILTER,
    // the shipped gateway.ini, sampling the queues every 2 s instead of every minute
    'config/gateway.ini': fs.readFileSync(path.join(GATEWAY_ROOT, 'config', 'gateway.ini'), 'utf8').replace(/^queue_sample_interval=.*$/m, 'queue_sample_interval=2s'),
  },
  services: [redis, partnerMx],
  prepare: ({ gw }) => addUser(gw, 'relay', 'relay-password'),
})
afterAll(() => redis.dispose())

const ARGS = ['--since', '1h', '--node', NODE]

it('counts a deferred delivery, a quarantined and a monitored message exactly', async () => {
  const ok = await sendOne(gw, { from: 'a@sender.test', to: ['b@example.com'] })
  expect(ok.end?.code).toBe(250)
  // block list on trial: the envelope sender is on it, the header From is not (one look that finds it)
  const monitored = await sendOne(gw, { from: 'news@blocked.test', headerFrom: 'news@sender.test', to: ['b@example.com'] })
  expect(monitored.end?.code).toBe(250)
  const held = await sendOne(gw, { from: 'cfo@example.com', to: ['b@example.com'] })
  expect(held.end?.code).toBe(250)
  const relayed = await relayOne(gw, { user: 'relay', password: 'relay-password', from: 'relay@example.com', to: ['x@partner.test'] })
  expect(relayed.end?.code).toBe(250)
  await delivered(sink, ok.marker)
  await delivered(sink, monitored.marker)
  await partnerMx.waitForMessage((m) => m.raw.includes(relayed.marker), 'the relayed message, after one 451', { timeoutMs: 30_000 })

  const r = await waitForReport(gw, ARGS, (x) => x.delivery.outbound.deliveries === 1 && x.delivery.inbound.deliveries === 2)
  expect(r.delivery.outbound).toMatchObject({ deliveries: 1, deferrals: 1, bounces: 0 })
  expect(r.delivery.inbound).toMatchObject({ deliveries: 2, deferrals: 0, bounces: 0 })
  expect(r.messages).toMatchObject({ in: 3, out: 1 })
  expect(r.quarantine).toEqual({ quarantined: 1, released: 0 })
  expect(r.totals.inbound.quarantined).toBe(1)
  expect(r.totals.inbound['check:sender-blocklist:monitor']).toBe(1)
  // the protected address is looked at twice: the envelope at MAIL, the header From after DATA
  expect(r.totals.inbound['check:sender-protected:quarantine']).toBe(2)
  expect(r.filters).toContainEqual({ instance: 'inbound', check: 'sender-protected', first: 1, only: 1, also: 0 })
})

it('catches up exactly after Redis was down: N messages sent meanwhile count once', async () => {
  const N = 3
  const before = reportJson(gw, ARGS)
  await redis.stop()
  const markers: string[] = []
  for (let i = 0; i < N; i++) {
    const sent = await sendOne(gw, { from: 'a@sender.test', to: ['b@example.com'] })
    expect(sent.end?.code).toBe(250) // mail keeps flowing
    markers.push(sent.marker)
  }
  for (const m of markers) await delivered(sink, m)
  // a flush holding these counts has failed: the outage is really exercised
  await gw.waitForLog('inbound', /counters and tracking kept in memory until Redis is back/)
  await redis.start() // same port, with the data written before the outage

  const inc = (field: string) => (before.totals.inbound[field] ?? 0) + N
  const r = await waitForReport(gw, ARGS, (x) => x.messages.in === before.messages.in + N && x.delivery.inbound.deliveries === before.delivery.inbound.deliveries + N)
  // a few more flushes: a batch written twice would show now
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const after = reportJson(gw, ARGS)
  for (const x of [r, after]) {
    expect(x.messages.in).toBe(before.messages.in + N)
    expect(x.totals.inbound.connections).toBe(inc('connections'))
    expect(x.totals.inbound.recipients_accepted).toBe(inc('recipients_accepted'))
    expect(x.delivery.inbound.deliveries).toBe(before.delivery.inbound.deliveries + N)
    expect(x.messages.out).toBe(before.messages.out)
  }
})

it('samples the queue: an internal server down leaves messages waiting, their depth and age in the minute bucket, the report and /metrics', async () => {
  await sink.stop()
  try {
    const queuedAt = Date.now()
    const sent = await sendOne(gw, { from: 'a@sender.test', to: ['b@example.com'] })
    expect(sent.end?.code).toBe(250)
    await gw.waitForLog('inbound', /Temp fail|temp_fail|Temp failing/i, 30_000)
    // a later sample (every 2 s here) sees it waiting, and for at least 3 s
    const r = await lastReading(() => reportJson(gw, ARGS), (x) => (x.queue.inbound.depth ?? 0) > 0 && (x.queue.inbound.oldest_seconds ?? 0) >= 3, { timeoutMs: 60_000, intervalMs: 1000 })
    expect(r.queue.inbound.depth).toBeGreaterThanOrEqual(1)
    expect(r.queue.inbound.depth_max).toBeGreaterThanOrEqual(1)
    // the age is measured from the queue file's arrival time: never more than the time since we sent it
    const bound = Math.ceil((Date.now() - queuedAt) / 1000)
    expect(r.queue.inbound.oldest_seconds).toBeLessThanOrEqual(bound)
    expect(r.queue.inbound.oldest_seconds_max).toBeGreaterThanOrEqual(r.queue.inbound.oldest_seconds!)
    expect(r.queue.inbound.oldest_seconds_max).toBeLessThanOrEqual(bound)
    expect(r.queue.outbound).toMatchObject({ depth: 0, oldest_seconds: 0 }) // sampled too, nothing waiting there
    const scraped = await scrape(metricsAddresses(block).inbound)
    const age = valueOf(scraped.body, 'gateway_delivery_queue_oldest_seconds')
    expect(age).toBeGreaterThanOrEqual(3)
    expect(age).toBeLessThanOrEqual(Math.ceil((Date.now() - queuedAt) / 1000))
    expect(r.totals.inbound.queue_depth).toBeUndefined() // a sample, never summed as a counter
    const client = redis.client()
    try {
      const minutes = [0, 1, 2].map((ago) => bucketOf('m', Date.now() - ago * 60_000))
      const depths = await Promise.all(minutes.map((m) => client.hget(`${gw.redisPrefix}:c:m:inbound:${NODE}:${m}`, 'queue_depth')))
      expect(depths.some((d) => Number(d) >= 1), `queue_depth of ${minutes.join(', ')}: ${depths.join(', ')}`).toBe(true)
    } finally {
      client.disconnect()
    }
    const text = runReport(gw, ARGS)
    expect(text.stdout).toMatch(/queue depth at end \(sampled\)\s+[1-9]\d*\s+0\s+[1-9]/)
    expect(text.stdout).toMatch(/oldest queued at end \(sampled\)\s+\d+s\s+0s\s+\d+s/)
  } finally {
    await sink.start()
  }
}, 150_000)
