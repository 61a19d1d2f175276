// Unit tests of the tracking reader against the suite's real Redis: records are
// found through the indexes (filters intersect, time ranges apply), sender and
// recipient roles are told apart, events are read by stream id (trimmed ones
// counted as missing), and related legs are found.
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { findRecordIds, loadRecords, matchesRoles, relatedIds } from './query'
import { sampleEvent, sampleRecord } from './testing'
import { recordUnit, eventUnit } from './write-unit'

const keys = new RedisKeys(`trackq${process.pid}x${Math.floor(Math.random() * 1e6)}`)
const s = { recordTtl: 600, streamMaxEvents: 1000, streamMaxAge: 3600 }
const now = Date.now()
let redis: Redis

const write = async (commands: readonly (readonly [string, ...(string | number)[]])[]) => {
  const m = redis.multi()
  for (const [name, ...args] of commands) m.call(name, ...args)
  await m.exec()
}

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'))
  const a = sampleRecord({ id: 'A.1', time: now - 60_000, from: 'alice@sender.test', to: ['bob@example.com'], messageId: '<m1@x>' })
  const b = sampleRecord({ id: 'B.1', time: now - 30_000, from: 'bob@example.com', to: ['carol@partner.test'], messageId: '<m1@x>', instance: 'outbound', client: { ip: '10.0.0.5', rdns: null, helo: null } })
  const c = sampleRecord({ id: 'C.1', time: now - 10_000, from: 'alice@sender.test', to: ['dave@example.com'], messageId: '<m2@x>' })
  for (const r of [a, b, c]) await write(recordUnit(keys, s, r, [sampleEvent('RECEIVE', { recordId: r.id })], 'k', now).commands)
  await write(eventUnit(keys, s, [sampleEvent('DELIVER', { recordId: 'A.1' })], 'k').commands)
})

afterAll(() => redis.disconnect())

describe('tracking queries', () => {
  it('find records by each index, intersecting filters, most recent first', async () => {
    expect(await findRecordIds(redis, keys, { messageId: 'M1@x', limit: 10 })).toEqual(['B.1', 'A.1'])
    expect(await findRecordIds(redis, keys, { from: 'Alice@Sender.test', limit: 10 })).toEqual(['C.1', 'A.1'])
    expect(await findRecordIds(redis, keys, { from: 'alice@sender.test', to: 'bob@example.com', limit: 10 })).toEqual(['A.1'])
    expect(await findRecordIds(redis, keys, { clientIp: '10.0.0.5', limit: 10 })).toEqual(['B.1'])
    expect(await findRecordIds(redis, keys, { since: now - 45_000, limit: 10 })).toEqual(['C.1', 'B.1'])
    expect(await findRecordIds(redis, keys, { since: now - 45_000, until: now - 20_000, limit: 10 })).toEqual(['B.1'])
    expect(await findRecordIds(redis, keys, { limit: 1 })).toEqual(['C.1'])
    expect(await findRecordIds(redis, keys, { messageId: '<>', limit: 10 })).toEqual([])
  })

  it('tell the sender from the recipient role', async () => {
    const loaded = await loadRecords(redis, keys, ['A.1', 'B.1'])
    expect(matchesRoles(loaded.get('A.1')!.reading, { to: 'bob@example.com', limit: 1 })).toBe(true)
    expect(matchesRoles(loaded.get('B.1')!.reading, { to: 'bob@example.com', limit: 1 })).toBe(false)
    expect(matchesRoles(loaded.get('B.1')!.reading, { from: 'bob@example.com', limit: 1 })).toBe(true)
  })

  it('load records with their events in order, counting events trimmed from the stream', async () => {
    const loaded = await loadRecords(redis, keys, ['A.1', 'NOPE'])
    expect(loaded.get('A.1')!.reading.kind).toBe('ok')
    expect(loaded.get('A.1')!.events.map((e) => e.type)).toEqual(['RECEIVE', 'DELIVER'])
    expect(loaded.get('NOPE')!.reading).toEqual({ kind: 'missing', id: 'NOPE' })
    await redis.rpush(keys.recordEvents('A.1'), '1-1') // an id no longer in the stream
    expect((await loadRecords(redis, keys, ['A.1'])).get('A.1')!.eventsMissing).toBe(1)
  })

  it('find the other legs of a message', async () => {
    expect(await relatedIds(redis, keys, await loadRecords(redis, keys, ['A.1']))).toEqual(['B.1'])
  })
})
