// Unit tests of tracking's Redis commands: one unit holds the record (with its
// TTL), every search index (added, expired, trimmed by age) and its events; the
// stream is trimmed by length on every append and by age when asked.
import { describe, expect, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { messageIdDigest } from './canonical'
import { EVENT_VERSION, type TrackEvent } from './event'
import { sampleRecord } from './testing'
import { APPEND_EVENT_SCRIPT, eventUnit, indexKeys, MISSED, recordUnit, trimCommand } from './write-unit'

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
    const [set, ...rest] = unit.commands
    expect(set).toEqual(['set', 'gw:msg:AAAA-1.1', expect.any(String), 'EX', 600])
    expect(JSON.parse(set![2] as string)).toEqual(r)
    const idx = keys.recordsByAddress('alice@sender.test')
    expect(rest).toContainEqual(['zadd', idx, now, 'AAAA-1.1'])
    expect(rest).toContainEqual(['expire', idx, 600])
    expect(rest).toContainEqual(['zremrangebyscore', idx, '-inf', `(${now - 600_000}`])
    const evals = rest.filter((c) => c[0] === 'eval')
    expect(evals).toHaveLength(2)
    expect(evals[0]).toEqual(['eval', APPEND_EVENT_SCRIPT, 2, 'gw:events', 'gw:msg:AAAA-1.1:events', 1000, expect.any(String), 600])
    expect(JSON.parse(evals[1]![6] as string)).toMatchObject({ type: 'QUEUE' })
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
