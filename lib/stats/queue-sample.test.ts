// Unit tests of the queue-depth samples: the commands one sample writes (pure),
// the sampler's timing, and the Lua maximum run by the suite's real redis-server:
// a sample is an HSET, the maximum only grows, and re-sending a unit (a flush
// retried after an ambiguous failure) changes nothing.

import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it, vi } from 'vitest'

import { RedisKeys } from '../redis/keys'
import type { WriteUnit } from '../redis/write-batch'
import { MAX_SCRIPT, QueueSampler, queueSampleUnit, type QueueSampleTarget } from './queue-sample'

const PREFIX = `qsample${process.pid}x${Math.floor(Math.random() * 1e9)}`
const keys = new RedisKeys(PREFIX)
const target: QueueSampleTarget = {
  keys,
  direction: 'outbound',
  node: 'gw1',
  ttls: { m: 7200, h: 259_200, d: 864_000 },
  missed: () => ({ key: `${PREFIX}:stats:outbound:2026-06-15`, field: 'node_list_missed' }),
}
const AT = new Date(Date.UTC(2026, 5, 15, 12, 30, 15))

describe('queueSampleUnit', () => {
  it('HSETs the sample and maxes the maximum in the minute, hour and day buckets, each with its TTL, and lists the node', () => {
    const unit = queueSampleUnit(target, { depth: 7 }, AT)
    const m = `${PREFIX}:c:m:outbound:gw1:2026-06-15T12:30`
    const h = `${PREFIX}:c:h:outbound:gw1:2026-06-15T12`
    const d = `${PREFIX}:c:d:outbound:gw1:2026-06-15`
    expect(unit.commands).toEqual([
      ['hset', m, 'queue_depth', 7], ['eval', MAX_SCRIPT, 1, m, 'queue_depth_max', 7], ['expire', m, 7200],
      ['hset', h, 'queue_depth', 7], ['eval', MAX_SCRIPT, 1, h, 'queue_depth_max', 7], ['expire', h, 259_200],
      ['hset', d, 'queue_depth', 7], ['eval', MAX_SCRIPT, 1, d, 'queue_depth_max', 7], ['expire', d, 864_000],
      ['sadd', `${PREFIX}:nodes`, 'gw1'], ['expire', `${PREFIX}:nodes`, 864_000],
    ])
    expect(unit.missed).toEqual({ key: `${PREFIX}:stats:outbound:2026-06-15`, field: 'node_list_missed' })
    // nothing is incremented: a re-sent unit cannot count twice
    expect(unit.commands.some(([name]) => name.startsWith('hincr'))).toBe(false)
  })
})

describe('queueSampleUnit with the oldest message', () => {
  it('HSETs the age and maxes its maximum in every bucket, before the TTL', () => {
    const unit = queueSampleUnit(target, { depth: 2, oldestSeconds: 95 }, AT)
    const m = `${PREFIX}:c:m:outbound:gw1:2026-06-15T12:30`
    expect(unit.commands.slice(0, 5)).toEqual([
      ['hset', m, 'queue_depth', 2], ['eval', MAX_SCRIPT, 1, m, 'queue_depth_max', 2],
      ['hset', m, 'queue_oldest_seconds', 95], ['eval', MAX_SCRIPT, 1, m, 'queue_oldest_seconds_max', 95],
      ['expire', m, 7200],
    ])
    expect(unit.commands.filter(([, key, field]) => field === 'queue_oldest_seconds')).toHaveLength(3)
  })
})

describe('QueueSampler', () => {
  it('reads the age for each sample; an unreadable folder still writes the depth and is reported', async () => {
    const pushed: WriteUnit[] = []
    const errors: string[] = []
    let fail = false
    const sampler = new QueueSampler({
      ...target,
      depth: () => 1,
      oldestSeconds: async (nowMs) => {
        if (fail) throw new Error('EACCES')
        return Math.floor((nowMs - AT.getTime()) / 1000) + 40
      },
      sink: { push: (u) => pushed.push(u) },
      onAgeError: (err) => errors.push(err.message),
    })
    expect(await sampler.sample(new Date(AT.getTime() + 20_000))).toBe(true)
    expect(pushed[0]!.commands).toContainEqual(['hset', `${PREFIX}:c:m:outbound:gw1:2026-06-15T12:30`, 'queue_oldest_seconds', 60])
    fail = true
    expect(await sampler.sample(AT)).toBe(true)
    expect(pushed[1]!.commands.some(([, , field]) => String(field).startsWith('queue_oldest'))).toBe(false)
    expect(pushed[1]!.commands[0]).toEqual(['hset', `${PREFIX}:c:m:outbound:gw1:2026-06-15T12:30`, 'queue_depth', 1])
    expect(errors).toEqual(['EACCES'])
  })

  it('samples at start and then every interval; an unreadable depth writes nothing; stop ends it', () => {
    vi.useFakeTimers({ now: AT })
    try {
      const pushed: WriteUnit[] = []
      let depth: number | undefined = 3
      const sampler = new QueueSampler({ ...target, depth: () => depth, sink: { push: (u) => pushed.push(u) }, intervalMs: 60_000 })
      sampler.start()
      sampler.start() // once
      expect(pushed).toHaveLength(1)
      expect(pushed[0]!.commands[0]).toEqual(['hset', `${PREFIX}:c:m:outbound:gw1:2026-06-15T12:30`, 'queue_depth', 3])
      depth = undefined
      vi.advanceTimersByTime(60_000)
      expect(pushed).toHaveLength(1)
      depth = 5
      vi.advanceTimersByTime(60_000)
      expect(pushed).toHaveLength(2)
      expect(pushed[1]!.commands[0]).toEqual(['hset', `${PREFIX}:c:m:outbound:gw1:2026-06-15T12:32`, 'queue_depth', 5])
      sampler.stop()
      vi.advanceTimersByTime(600_000)
      expect(pushed).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('the maximum in Redis', () => {
  const redis = new Redis(inject('redisUrl'))
  afterAll(() => redis.disconnect())

  const write = async (unit: WriteUnit) => {
    const multi = redis.multi()
    for (const [name, ...args] of unit.commands) multi.call(name, ...args)
    const replies = await multi.exec()
    for (const [err] of replies ?? []) expect(err).toBeNull()
  }

  it('keeps the latest sample and the largest one; a re-sent unit changes nothing', async () => {
    const hour = `${PREFIX}:c:h:outbound:gw1:2026-06-15T12`
    const first = queueSampleUnit(target, { depth: 4 }, AT)
    await write(first)
    await write(queueSampleUnit(target, { depth: 9 }, new Date(AT.getTime() + 60_000)))
    await write(queueSampleUnit(target, { depth: 2 }, new Date(AT.getTime() + 120_000)))
    expect(await redis.hgetall(hour)).toEqual({ queue_depth: '2', queue_depth_max: '9' })
    await write(queueSampleUnit(target, { depth: 2 }, new Date(AT.getTime() + 120_000))) // the same unit again
    expect(await redis.hgetall(hour)).toEqual({ queue_depth: '2', queue_depth_max: '9' })
    expect(await redis.hgetall(`${PREFIX}:c:m:outbound:gw1:2026-06-15T12:31`)).toEqual({ queue_depth: '9', queue_depth_max: '9' })
    expect(await redis.ttl(hour)).toBeGreaterThan(259_000)
    expect(await redis.smembers(keys.nodes())).toEqual(['gw1'])
  })

  it('the max script also works on a hash that already holds counters', async () => {
    const key = `${PREFIX}:c:d:inbound:gw2:2026-06-16`
    await redis.hset(key, 'connections', '12')
    await redis.eval(MAX_SCRIPT, 1, key, 'queue_depth_max', 3)
    await redis.eval(MAX_SCRIPT, 1, key, 'queue_depth_max', 1)
    expect(await redis.hgetall(key)).toEqual({ connections: '12', queue_depth_max: '3' })
  })
})
