// Message tracking end to end, on real instances and a real Redis: a message in
// through inbound, delivered to the internal server, relayed back out (the same
// bytes) through outbound to a partner MX, and `gateway track` (its own process)
// showing both legs in order; deferred, rejected, quarantined-then-released and
// bounced messages; every search option; the JSON event log; retention by
// record_ttl; a Redis outage (buffered records arrive later, overflow counted);
// parallel sessions.

import fs from 'node:fs'
import path from 'node:path'

import Redis from 'ioredis'
import { describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../lib/redis/keys'
import { messageIdDigest } from '../lib/tracking/canonical'
import { addUser, delivered, gatewayWithSink, outboundWithPartnerMx, sendOne } from './helpers/fixtures'
import { sendMail, shippedInboundPlugins, testMessage, type TestGateway } from './helpers/gateway'
import { relaySession } from './helpers/outbound-relay'
import { addressBlock } from './helpers/net'
import { TestRedis } from './helpers/redis-server'
import { lastReading } from './helpers/wait'
import { allowSenders, gatewayCli, gatewayIni, track, type TrackJson } from './helpers/tracking'

const USER = 'bob@example.com'
const PASSWORD = 'a-long-relay-password'

async function trackJson(gw: TestGateway, ...args: string[]): Promise<{ status: number | null; doc: TrackJson | undefined; stderr: string }> {
  const r = await track(gw, ...args, '--json')
  return { status: r.status, doc: r.status === 0 ? (JSON.parse(r.stdout) as TrackJson) : undefined, stderr: r.stderr }
}

/** Polls `gateway track ARGS --json` until `done` holds for its document (records are flushed every second). */
async function trackUntil(gw: TestGateway, args: string[], done: (doc: TrackJson) => boolean, timeoutMs = 30_000): Promise<TrackJson> {
  const doc = await lastReading(
    async () => (await trackJson(gw, ...args)).doc ?? { version: 1, messages: [] },
    done,
    { timeoutMs, intervalMs: 500 },
  )
  return doc
}

const types = (doc: TrackJson, instance: string) =>
  doc.messages.flatMap((m) => m.records.filter((r) => r.record?.instance === instance).flatMap((r) => r.events.map((e) => e.type)))

/** Relays `raw` (a message as the internal server received it) through outbound. */
async function relayRaw(gw: TestGateway, to: string[], raw: string): Promise<number | undefined> {
  const client = await relaySession(gw, USER, PASSWORD)
  const r = await sendMail(client, { from: USER, to }, raw)
  await client.quit()
  return r.end?.code
}

describe('message tracking across both instances', () => {
  let attemptsLater = 0
  const f = outboundWithPartnerMx({
    instances: ['inbound', 'outbound'],
    files: {
      'config/gateway.ini': gatewayIni({ node: 'gw-test-1' }),
      'inbound/config/gateway-sender-filter.ini': '[blocklist]\nsenders[]=spammer@bad.test\n',
      'inbound/config/valid_recipients': 'bob@example.com\ndave@example.com\n',
      'inbound/config/gateway-recipients.ini': '[main]\naction=quarantine\n',
      'outbound/config/outbound.ini': '[main]\ntemp_fail_intervals=5s*10\nreceived_header=disabled\nlocal_mx_ok=true\n',
    },
    prepare: ({ gw }) => {
      addUser(gw, USER, PASSWORD)
      allowSenders(gw, USER, 'example.com,sender.test') // it forwards what it received from the Internet
    },
  })

  // the partner's MX: later@ is deferred twice, nobody@ refused
  f.remoteMx.failFor = (to) => {
    if (to.includes('later@partner.test') && attemptsLater++ < 2) return { code: 451, text: '4.3.0 Try again later' }
    if (to.includes('nobody@partner.test')) return { code: 550, text: '5.1.1 No such user here' }
    return undefined
  }

  it('shows a message in through inbound and out through outbound as one timeline, both legs in order', async () => {
    const sent = await sendOne(f.gw, { from: 'alice@sender.test', to: ['bob@example.com'], subject: 'both legs' })
    expect(sent.end?.code).toBe(250)
    const got = await delivered(f.internal, sent.marker)
    // the internal server sends the very bytes it received on to a partner
    expect(await relayRaw(f.gw, ['carol@partner.test'], got.raw)).toBe(250)
    await f.remoteMx.waitForMessage((m) => m.raw.includes(sent.marker), 'the relayed message')

    const mid = `<${sent.marker}@test.invalid>`
    const doc = await trackUntil(f.gw, ['--message-id', mid], (d) => types(d, 'inbound').includes('DELIVER') && types(d, 'outbound').includes('DELIVER'))
    expect(doc.version).toBe(1)
    expect(doc.messages).toHaveLength(1)
    const [inb, outb] = doc.messages[0]!.records
    expect(inb!.record).toMatchObject({ instance: 'inbound', node: 'gw-test-1', status: 'accepted', from: 'alice@sender.test', to: ['bob@example.com'], messageId: mid, action: 'deliver' })
    expect(inb!.record.client).toMatchObject({ helo: 'mx.sender.test' })
    // (haraka-plugin-spf skips loopback clients: no SPF result here)
    expect(inb!.record.senderAuth).toEqual({ spf: null, dkim: [], dmarc: 'none (sender.test)' })
    expect(inb!.record.tls).toBeNull()
    expect(inb!.record.queueId).toBe(inb!.id)
    expect(inb!.events.map((e) => e.type)).toEqual(['RECEIVE', 'QUEUE', 'DELIVER'])
    expect(inb!.events[2]).toMatchObject({ host: expect.stringContaining(f.internal.address.split(':')[0]!), reply: expect.stringMatching(/^250/), queueId: `${inb!.id}.1` })
    expect(outb!.record).toMatchObject({ instance: 'outbound', status: 'accepted', auth: USER, from: USER, to: ['carol@partner.test'], messageId: mid })
    // outbound trusted the signed inbound history the message carried: the legs are linked by record id too
    expect(outb!.record.inboundRecordId).toBe(inb!.id)
    expect(outb!.record.senderAuth).toBeNull()
    expect(outb!.record.tls).toMatchObject({ protocol: expect.stringMatching(/^TLSv1\.[23]$/) })
    expect(outb!.events.map((e) => e.type)).toEqual(['RECEIVE', 'QUEUE', 'DELIVER'])
    expect(JSON.stringify(doc)).not.toContain(PASSWORD)

    // the readable form: both legs, inbound first
    const text = await track(f.gw, '--message-id', mid)
    expect(text.status, text.stderr).toBe(0)
    const inAt = text.stdout.indexOf('inbound leg')
    const outAt = text.stdout.indexOf('outbound leg')
    expect(inAt).toBeGreaterThan(-1)
    expect(outAt).toBeGreaterThan(inAt)
    expect(text.stdout).toMatch(/Internet \S+ → inbound gw-test-1 \(checks: spf=\S+ dkim=none dmarc=\S+\) → queued → delivered to internal \S+ \(250/)
    expect(text.stdout).toMatch(/internal \S+ \(bob@example\.com\) → outbound gw-test-1 → queued → delivered to remote mx\.partner\.test\S* \(250/)

    // every search option finds it (and combined they intersect)
    const clientIp = (inb!.record.client as { ip: string }).ip
    for (const args of [['--from', 'ALICE@sender.test'], ['--to', 'carol@partner.test'], ['--client-ip', clientIp], ['--since', '1h'], ['--from', 'alice@sender.test', '--to', 'bob@example.com', '--since', '10m', '--until', new Date(Date.now() + 60_000).toISOString()]]) {
      const r = await trackJson(f.gw, ...args, '--limit', '100')
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      expect(r.doc!.messages.some((m) => m.records.some((x) => x.id === inb!.id)), args.join(' ')).toBe(true)
    }
    // a filter that matches nothing: exit 1; --to on a sender address finds nothing as recipient
    expect((await track(f.gw, '--from', 'alice@sender.test', '--until', '2h')).status).toBe(1)
    expect((await track(f.gw, '--message-id', '<nothing-like-this@test.invalid>')).status).toBe(1)
  })

  it('shows a deferred message: deferred twice, then delivered', async () => {
    const { text, marker } = testMessage({ from: USER, to: 'later@partner.test', subject: 'deferred' })
    expect(await relayRaw(f.gw, ['later@partner.test'], text)).toBe(250)
    const doc = await trackUntil(f.gw, ['--message-id', `<${marker}@test.invalid>`], (d) => types(d, 'outbound').includes('DELIVER'))
    expect(types(doc, 'outbound')).toEqual(['RECEIVE', 'QUEUE', 'DEFER', 'DEFER', 'DELIVER'])
    const defer = doc.messages[0]!.records[0]!.events[2]!
    expect(defer).toMatchObject({ reply: expect.stringContaining('451'), attempts: 1, nextAttempt: expect.any(String) })
    const out = await track(f.gw, '--to', 'later@partner.test')
    expect(out.stdout).toMatch(/deferred twice \(.*451.*\), delivered to remote/)
  })

  it('shows a rejected transaction (found by sender) and a refused recipient', async () => {
    const r = await sendOne(f.gw, { from: 'spammer@bad.test', to: ['bob@example.com'] })
    expect(r.mail.code).toBe(550)
    const doc = await trackUntil(f.gw, ['--from', 'spammer@bad.test'], (d) => d.messages.length > 0)
    const rec = doc.messages[0]!.records[0]!
    expect(rec.record).toMatchObject({ status: 'rejected', action: 'reject', from: 'spammer@bad.test', reply: expect.stringMatching(/^550/) })
    expect(rec.events).toEqual([expect.objectContaining({ type: 'REJECT', check: 'sender-blocklist', reply: expect.stringMatching(/^550 5\.7\.1/) })])
    const text = await track(f.gw, '--from', 'spammer@bad.test')
    expect(text.stdout).toMatch(/→ rejected by sender-blocklist \(550/)
  })

  it('shows a quarantined message, its release and its delivery on one record', async () => {
    const sent = await sendOne(f.gw, { from: 'eve@sender.test', to: ['unknown@example.com'], subject: 'held' })
    expect(sent.end?.code).toBe(250)
    const first = await trackUntil(f.gw, ['--to', 'unknown@example.com'], (d) => d.messages.length > 0)
    const rec = first.messages[0]!.records[0]!
    expect(rec.record).toMatchObject({ status: 'quarantined', action: 'quarantine', quarantineId: expect.any(String) })
    expect(rec.events.map((e) => e.type)).toEqual(['RECEIVE', 'QUARANTINE'])
    const qid = rec.record.quarantineId as string
    const released = await gatewayCli(f.gw, ['quarantine', 'release', qid])
    expect(released.status, released.stderr).toBe(0)
    await delivered(f.internal, sent.marker)
    const doc = await trackUntil(f.gw, ['--to', 'unknown@example.com'], (d) => types(d, 'inbound').includes('DELIVER'))
    expect(doc.messages).toHaveLength(1)
    expect(doc.messages[0]!.records.map((r) => r.id)).toEqual([rec.id])
    expect(types(doc, 'inbound')).toEqual(['RECEIVE', 'QUARANTINE', 'RELEASE', 'QUEUE', 'DELIVER'])
    expect(doc.messages[0]!.records[0]!.events[2]).toMatchObject({ quarantineId: qid })
    const text = await track(f.gw, '--to', 'unknown@example.com')
    expect(text.stdout).toMatch(/→ quarantined as \S+ → released by \S+ → queued → delivered to internal/)
  })

  it('shows a bounced message and the DSN sent to the internal sender', async () => {
    const { text, marker } = testMessage({ from: USER, to: 'nobody@partner.test', subject: 'bounced' })
    expect(await relayRaw(f.gw, ['nobody@partner.test'], text)).toBe(250)
    const doc = await trackUntil(f.gw, ['--message-id', `${marker}@test.invalid`], (d) => types(d, 'outbound').includes('DSN-SENT'))
    expect(types(doc, 'outbound')).toEqual(['RECEIVE', 'QUEUE', 'BOUNCE', 'DSN-SENT'])
    const events = doc.messages[0]!.records[0]!.events
    expect(events[2]).toMatchObject({ reply: expect.stringContaining('550'), recipients: ['nobody@partner.test'] })
    expect(events[3]).toMatchObject({ dsnTo: USER })
    await f.internal.waitForMessage((m) => m.from === '' && m.raw.includes(marker), 'the DSN')
    const out = await track(f.gw, '--message-id', `${marker}@test.invalid`)
    expect(out.stdout).toMatch(/bounced \(.*550.*\), DSN sent to bob@example\.com/)
  })

  it('writes every event as one JSON line to the event log', async () => {
    const file = path.join(f.gw.root, 'var', 'log', 'gateway-events.jsonl')
    const sent = await sendOne(f.gw, { from: 'frank@sender.test', to: ['dave@example.com'], subject: 'logged' })
    await delivered(f.internal, sent.marker)
    const lines = await lastReading(
      () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : []),
      (ls) => ls.some((l) => l.type === 'DELIVER' && l.messageId === `<${sent.marker}@test.invalid>`),
      { timeoutMs: 20_000 },
    )
    const mine = lines.filter((l) => l.messageId === `<${sent.marker}@test.invalid>`)
    expect(mine.map((l) => l.type)).toEqual(['RECEIVE', 'QUEUE', 'DELIVER'])
    for (const l of mine) expect(l).toMatchObject({ v: 1, node: 'gw-test-1', instance: 'inbound', recordId: expect.any(String), time: expect.any(String) })
    // every kind of event of the earlier tests is there too
    const kinds = new Set(lines.map((l) => l.type))
    for (const k of ['RECEIVE', 'REJECT', 'QUARANTINE', 'RELEASE', 'QUEUE', 'DELIVER', 'DEFER', 'BOUNCE', 'DSN-SENT']) expect(kinds, k).toContain(k)
  })

  it('keeps 20 parallel inbound sessions apart: 20 records, each findable', async () => {
    const sender = `para-${Date.now()}@sender.test`
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => sendOne(f.gw, { from: sender, to: ['bob@example.com'], subject: `parallel ${i}` })))
    expect(sent.map((s) => s.end?.code)).toEqual(Array(20).fill(250))
    const doc = await trackUntil(f.gw, ['--from', sender, '--limit', '100'], (d) => d.messages.length >= 20)
    expect(doc.messages).toHaveLength(20)
    for (const s of sent) {
      const one = await trackJson(f.gw, '--message-id', `<${s.marker}@test.invalid>`)
      expect(one.doc!.messages).toHaveLength(1)
    }
  })

  it('answers usage errors with 64 and an unreachable Redis with 69', async () => {
    expect((await track(f.gw, '--since', 'yesterday')).status).toBe(64)
    expect((await track(f.gw, '--bogus')).status).toBe(64)
    expect((await track(f.gw, '--limit', '0')).status).toBe(64)
    const down = await gatewayCli(f.gw, ['track', '--from', 'alice@sender.test'], { REDIS_URL: `redis://${f.block.ip(77)}:6379` })
    expect(down.status).toBe(69)
    expect(down.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^gateway: Redis is not reachable at REDIS_URL=/)])
  })

  it('shows a record that fails validation as such', async () => {
    const keys = new RedisKeys(f.gw.redisPrefix)
    const redis = new Redis(inject('redisUrl'))
    try {
      const now = Date.now()
      const digest = messageIdDigest('<broken@test.invalid>')!
      await redis.set(keys.record('BROKEN-1'), '{"v":1,"id":"BROKEN-1"', 'EX', 60)
      await redis.set(keys.record('FUTURE-1'), JSON.stringify({ v: 99, id: 'FUTURE-1' }), 'EX', 60)
      await redis.zadd(keys.recordsByMessageId(digest), now, 'BROKEN-1', now + 1, 'FUTURE-1')
      await redis.expire(keys.recordsByMessageId(digest), 60)
    } finally {
      redis.disconnect()
    }
    const text = await track(f.gw, '--message-id', 'broken@test.invalid')
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(/record BROKEN-1: INVALID \(corrupt: not JSON\)/)
    expect(text.stdout).toMatch(/record FUTURE-1: INVALID \(unknown schema version 99\)/)
    const { doc } = await trackJson(f.gw, '--message-id', 'broken@test.invalid')
    expect(doc!.messages.flatMap((m) => m.records.map((r) => [r.id, r.valid, r.problem]))).toEqual([
      ['BROKEN-1', false, 'corrupt: not JSON'],
      ['FUTURE-1', false, 'unknown version 99'],
    ])
  })
})

describe('tracking retention', () => {
  const { gw, sink } = gatewayWithSink({ files: { 'config/gateway.ini': gatewayIni({ recordTtl: '3s' }) } })

  it('lets records, event lists and index entries expire after record_ttl', async () => {
    const sent = await sendOne(gw, { from: 'old@sender.test', to: ['bob@example.com'] })
    await delivered(sink, sent.marker)
    const found = await trackUntil(gw, ['--from', 'old@sender.test'], (d) => d.messages.length > 0, 10_000)
    const id = found.messages[0]!.records[0]!.id
    const keys = new RedisKeys(gw.redisPrefix)
    const redis = new Redis(inject('redisUrl'))
    try {
      expect(await redis.ttl(keys.record(id))).toBeLessThanOrEqual(3)
      expect(await redis.ttl(keys.recordsByAddress('old@sender.test'))).toBeLessThanOrEqual(3)
      const gone = await lastReading(
        async () => ({
          record: await redis.exists(keys.record(id)),
          events: await redis.exists(keys.recordEvents(id)),
          byAddress: await redis.exists(keys.recordsByAddress('old@sender.test')),
          byTime: await redis.zscore(keys.recordsByTime(), id),
        }),
        (g) => g.record === 0 && g.events === 0 && g.byAddress === 0,
        { timeoutMs: 10_000, intervalMs: 250 },
      )
      expect(gone).toMatchObject({ record: 0, events: 0, byAddress: 0 })
    } finally {
      redis.disconnect()
    }
    expect((await track(gw, '--from', 'old@sender.test')).status).toBe(1)
  })
})

describe('tracking while Redis is down', () => {
  const block = addressBlock()
  const redis = new TestRedis(block.ip(6), 6379)
  const { gw, sink } = gatewayWithSink({
    block,
    redisUrl: redis.url,
    files: {
      'config/gateway.ini': gatewayIni({ bufferMaxUnits: 3 }),
      // only tracking fills the buffer here (link state would add units of its own)
      'inbound/config/plugins': shippedInboundPlugins().split('\n').filter((l) => l.trim() !== 'gateway-links').join('\n'),
    },
    services: [{ start: async () => {}, stop: () => redis.stop() }], // the test starts it
  })

  it('keeps mail flowing, writes the buffered records once Redis is back and counts what overflowed', async () => {
    const markers: string[] = []
    for (let i = 0; i < 5; i++) {
      const sent = await sendOne(gw, { from: `down${i}@sender.test`, to: ['bob@example.com'] })
      expect(sent.end?.code).toBe(250)
      await delivered(sink, sent.marker)
      markers.push(sent.marker)
    }
    await gw.waitForLog('inbound', /records\/events waiting/)
    await redis.start()
    // the newest record (and its delivery) was still buffered: it arrives
    const last = await trackUntil(gw, ['--message-id', `<${markers[4]}@test.invalid>`], (d) => types(d, 'inbound').includes('DELIVER'))
    expect(types(last, 'inbound')).toEqual(['RECEIVE', 'QUEUE', 'DELIVER'])
    // 5 records + 5 delivery events = 10 units, 3 kept: 7 dropped and counted
    const client = redis.client()
    try {
      const day = new Date().toISOString().slice(0, 10)
      const key = new RedisKeys(gw.redisPrefix).stats('inbound', day)
      const counts = await lastReading(
        () => client.hgetall(key),
        (h) => Number(h.tracking_records_missed ?? 0) + Number(h.tracking_events_missed ?? 0) >= 7,
        { timeoutMs: 10_000 },
      )
      expect(Number(counts.tracking_records_missed) + Number(counts.tracking_events_missed)).toBe(7)
      expect(Number(counts.tracking_records_missed)).toBeGreaterThanOrEqual(4)
    } finally {
      client.disconnect()
    }
    expect((await track(gw, '--message-id', `<${markers[0]}@test.invalid>`)).status).toBe(1)
  })
})
