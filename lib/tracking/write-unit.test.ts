// Unit tests of tracking's Redis commands: one unit holds the record (with its
// TTL), every search index (added, expired, trimmed by age) and its events; the
// stream is trimmed by length on every append and by age when asked; run
// against the suite's real Redis, a record unit leaves what `gateway track` reads.
import Redis from 'ioredis'
import { describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { messageIdDigest } from './canonical'
import { EVENT_VERSION, type TrackEvent } from './event'
import { sampleRecord } from './testing'
import { eventUnit, indexKeys, MISSED, recordUnit, trimCommand, WRITE_RECORD_SCRIPT } from './write-unit'

const keys = new RedisKeys('gw')
const s = { recordTtl: 600, streamMaxEvents: 1000, streamMaxAge: 3600 }
const now = Date.now()
const ev = (type: TrackEvent['type']): TrackEvent => ({ v: EVENT_VERSION, type, time: new Date(now).toISOString(), node: 'gw1', instance: 'inbound', recordId: 'AAAA-1.1', queueId: null, messageId: '<m1@sender.test>' })

describe('tracking write units', () => {
  it('index a record by Message-ID, sender, recipients, client IP and time', () => {
    const r = sampleRecord({ to: ['Bob@Example.com', 'carol@example.com'] })
    expect(indexKeys(keys, r).sort()).toEqual(
      [
        keys.recordsByTime(),
        keys.recordsByClientIp('203.0.113.5'),
        keys.recordsByMessageId(messageIdDigest('<m1@sender.test>')!),
        keys.recordsByAddress('alice@sender.test'),
        keys.recordsByAddress('bob@example.com'),
        keys.recordsByAddress('carol@example.com'),
      ].sort(),
    )
    // no Message-ID, null sender: not indexed by them
    expect(indexKeys(keys, sampleRecord({ messageId: null, from: '', to: [] })).sort()).toEqual([keys.recordsByTime(), keys.recordsByClientIp('203.0.113.5')].sort())
  })

  it('write the record, its indexes and its events in one unit, with expiry and trimming', () => {
    const r = sampleRecord({ time: now })
    const unit = recordUnit(keys, s, r, [ev('RECEIVE'), ev('QUEUE')], 'gw:stats:inbound:day', now)
    expect(unit.missed).toEqual({ key: 'gw:stats:inbound:day', field: MISSED.records })
    const [write, ...upkeep] = unit.commands
    const indexes = indexKeys(keys, r)
    // one command writes the record, adds it to every index and appends its events
    expect(write!.slice(0, 6 + indexes.length)).toEqual(['eval', WRITE_RECORD_SCRIPT, 3 + indexes.length, 'gw:msg:AAAA-1.1', 'gw:events', 'gw:msg:AAAA-1.1:events', ...indexes])
    const argv = write!.slice(6 + indexes.length)
    expect(JSON.parse(argv[0] as string)).toEqual(r)
    // TTL, score, member, stream length, then one own index (the Message-ID's, last in KEYS) kept up by the script, its trim bound
    expect(argv.slice(1, 7)).toEqual([600, now, 'AAAA-1.1', 1000, 1, `(${now - 600_000}`])
    const mid = keys.recordsByMessageId(messageIdDigest('<m1@sender.test>')!)
    expect(indexes.at(-1)).toBe(mid)
    expect(argv.slice(7).map((e) => JSON.parse(e as string).type)).toEqual(['RECEIVE', 'QUEUE'])
    // the upkeep of each index other records share stays plain commands (sent once per flush by the write batch)
    const idx = keys.recordsByAddress('alice@sender.test')
    expect(upkeep).toContainEqual(['expire', idx, 600])
    expect(upkeep).toContainEqual(['zremrangebyscore', idx, '-inf', `(${now - 600_000}`])
    expect(upkeep).toHaveLength(2 * (indexes.length - 1))
    expect(upkeep.some((c) => c[1] === mid)).toBe(false)
    // without a Message-ID there is no own index: nothing for the script to keep up
    const bare = recordUnit(keys, s, sampleRecord({ time: now, messageId: null }), [], 'k', now).commands[0]!
    expect(bare.at(-2)).toBe(0)
  })

  it('leave in Redis the record, its index entries and its events, linked by stream id', async () => {
    const redis = new Redis(inject('redisUrl'))
    const k = new RedisKeys(`wutest${process.pid}`)
    try {
      const r = sampleRecord({ time: now })
      // an entry of the same Message-ID older than the retention: the write trims it
      const mid = k.recordsByMessageId(messageIdDigest('<m1@sender.test>')!)
      await redis.zadd(mid, now - 700_000, 'OLD-1.1')
      const unit = recordUnit(k, s, r, [ev('RECEIVE'), ev('QUEUE')], 'unused', now)
      const multi = redis.multi()
      for (const [name, ...args] of unit.commands) multi.call(name, ...args)
      const replies = await multi.exec()
      expect(replies!.every(([err]) => err === null)).toBe(true)
      expect(JSON.parse((await redis.get(k.record(r.id)))!)).toEqual(r)
      expect(await redis.ttl(k.record(r.id))).toBeGreaterThan(590)
      for (const index of indexKeys(k, r)) {
        expect(await redis.zscore(index, r.id), index).toBe(String(now))
        expect(await redis.ttl(index)).toBeGreaterThan(590)
      }
      expect(await redis.zrange(mid, 0, -1)).toEqual([r.id])
      const stream = await redis.xrange(k.events(), '-', '+')
      expect(stream.map(([, fields]) => JSON.parse(fields[1]!).type)).toEqual(['RECEIVE', 'QUEUE'])
      expect(await redis.lrange(k.recordEvents(r.id), 0, -1)).toEqual(stream.map(([id]) => id))
      expect(await redis.ttl(k.recordEvents(r.id))).toBeGreaterThan(590)
    } finally {
      const left = await redis.keys(`wutest${process.pid}:*`)
      if (left.length) await redis.del(...left)
      redis.disconnect()
    }
  })

  it('write later events as units of their own, counted as events when dropped', () => {
    const unit = eventUnit(keys, s, [ev('DELIVER')], 'k')
    expect(unit.missed.field).toBe(MISSED.events)
    expect(unit.commands).toHaveLength(1)
  })

  it('trim the stream by age with MINID', () => {
    expect(trimCommand(keys, s, now)).toEqual(['xtrim', 'gw:events', 'MINID', '~', `${now - 3_600_000}-0`])
  })
})
