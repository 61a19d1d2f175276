// Measures the Redis memory tracking needs: writes N realistic messages (record,
// indexes and events, exactly the commands the plugin writes) under a scratch key
// prefix and reports INFO memory's used_memory before and after. Run against a
// Redis holding nothing else for a clean number:
//   node dist/lib/tracking/measure-memory.js redis://127.0.0.1:6390 100000 [--two-legs]
// The scratch keys are deleted afterwards (by their known names, no SCAN).
// Any gateway Redis URL works (redis+sentinel://, redis+cluster://); on a cluster
// INFO answers for one node, so measure against a single server.

import crypto from 'node:crypto'

import { createRedisClient } from '../redis/client'
import { effectivePrefix } from '../redis/connection-options'
import { RedisKeys } from '../redis/keys'
import { EVENT_VERSION, type TrackEvent } from './event'
import { RECORD_VERSION, type TrackRecord } from './record'
import { eventUnit, indexKeys, recordUnit, type RetentionSettings } from './write-unit'

const retention: RetentionSettings = { recordTtl: 30 * 86_400, streamMaxEvents: 10_000_000, streamMaxAge: 30 * 86_400 }

function usedMemory(info: string): number {
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN)
}

function leg(i: number, instance: 'inbound' | 'outbound', now: number, inboundId?: string): { record: TrackRecord; events: TrackEvent[]; later: TrackEvent[] } {
  const id = `${crypto.randomUUID().toUpperCase()}.1`
  const messageId = `<${crypto.randomBytes(12).toString('hex')}.${i}@mail${i % 500}.sender${i % 20_000}.test>`
  const inbound = instance === 'inbound'
  const record: TrackRecord = {
    v: RECORD_VERSION,
    id,
    node: 'gw-node-1',
    instance,
    time: now,
    status: 'accepted',
    client: inbound ? { ip: `198.51.${(i >> 8) % 20}.${i % 250}`, rdns: `mail${i % 500}.sender${i % 20_000}.test`, helo: `mail${i % 500}.sender${i % 20_000}.test` } : { ip: '10.0.0.5', rdns: null, helo: 'exchange.corp.example' },
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    auth: inbound ? null : 'exchange-connector',
    from: inbound ? `user${i % 20_000}@sender${i % 20_000}.test` : `staff${i % 2000}@example.com`,
    to: inbound ? [`staff${i % 2000}@example.com`] : [`user${i % 20_000}@partner${i % 5000}.test`],
    messageId,
    size: 20_000 + (i % 50_000),
    senderAuth: inbound ? { spf: `pass (sender${i % 20_000}.test)`, dkim: [`pass (sender${i % 20_000}.test)`], dmarc: `pass (sender${i % 20_000}.test)` } : null,
    checks: inbound
      ? [
          { check: 'spam', result: 'scl_1', action: 'accept' },
          { check: 'virus', result: 'clean', action: 'accept' },
        ]
      : [],
    action: 'deliver',
    queueId: id,
    quarantineId: null,
    reply: null,
    inboundRecordId: inboundId ?? null,
  }
  const ev = (type: TrackEvent['type'], extra: Partial<TrackEvent> = {}): TrackEvent => ({
    v: EVENT_VERSION,
    type,
    time: new Date(now).toISOString(),
    node: 'gw-node-1',
    instance,
    recordId: id,
    queueId: null,
    messageId,
    ...extra,
  })
  const domain = record.to[0]!.split('@')[1]!
  return {
    record,
    events: [ev('RECEIVE'), ev('QUEUE', { queueId: `${id}.1`, destination: domain })],
    later: [ev('DELIVER', { queueId: `${id}.1`, destination: domain, host: inbound ? '10.0.0.5[10.0.0.5]:25' : `mx1.partner${i % 5000}.test[192.0.2.${i % 250}]:25`, reply: '250 2.0.0 Ok: queued as 4Xyz1234', tls: true, recipients: record.to as string[] })],
  }
}

async function main(): Promise<void> {
  const [url = 'redis://127.0.0.1:6379', countText = '100000', ...flags] = process.argv.slice(2)
  const count = Number(countText)
  const twoLegs = flags.includes('--two-legs')
  const redis = createRedisClient(url, { connectTimeoutMs: 10_000, maxRetriesPerRequest: 20, failFast: false, reconnect: true, lazyConnect: false })
  const keys = new RedisKeys(effectivePrefix(`memtest${process.pid}`, url))
  const written = new Set<string>([keys.events()])
  const before = usedMemory(await redis.info('memory'))
  const now = Date.now()
  for (let start = 0; start < count; start += 1000) {
    const multi = redis.multi()
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const legs = [leg(i, 'inbound', now)]
      if (twoLegs) legs.push(leg(i, 'outbound', now + 1000, legs[0]!.record.id))
      for (const l of legs) {
        for (const [name, ...args] of recordUnit(keys, retention, l.record, l.events, 'unused', now).commands) multi.call(name, ...args)
        for (const [name, ...args] of eventUnit(keys, retention, l.later, 'unused').commands) multi.call(name, ...args)
        written.add(keys.record(l.record.id)).add(keys.recordEvents(l.record.id))
        for (const k of indexKeys(keys, l.record)) written.add(k)
      }
    }
    await multi.exec()
  }
  const after = usedMemory(await redis.info('memory'))
  const perMessage = (after - before) / count
  console.log(
    JSON.stringify({ messages: count, legsPerMessage: twoLegs ? 2 : 1, eventsPerLeg: 3, usedMemoryBefore: before, usedMemoryAfter: after, bytesPerMessage: Math.round(perMessage), mibPer100k: +((perMessage * 100_000) / 1048576).toFixed(1) }),
  )
  const all = [...written]
  for (let i = 0; i < all.length; i += 1000) await redis.del(...all.slice(i, i + 1000))
  redis.disconnect()
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
