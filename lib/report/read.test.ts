// Unit test of the report's reader against the suite's real redis-server: counters
// and queue depths of several nodes add up, the oldest-message ages do not (the
// oldest of two nodes is the older one), and each node's latest sample is kept.

import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { readSeries } from './read'
import { newLatestSamples } from './queue'

const keys = new RedisKeys(`reportread${process.pid}x${Math.floor(Math.random() * 1e9)}`)
const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

describe('readSeries over nodes', () => {
  it('sums counters and depths, takes the largest age', async () => {
    const minute = '2026-06-15T12:30'
    await redis.hset(keys.bucket('m', 'inbound', 'gw1', minute), { messages_accepted: 3, queue_depth: 2, queue_depth_max: 4, queue_oldest_seconds: 120, queue_oldest_seconds_max: 300 })
    await redis.hset(keys.bucket('m', 'inbound', 'gw2', minute), { messages_accepted: 5, queue_depth: 1, queue_depth_max: 1, queue_oldest_seconds: 900, queue_oldest_seconds_max: 900 })
    await redis.hset(keys.bucket('m', 'inbound', 'gw3', minute), { messages_accepted: 1 })
    const latest = newLatestSamples()
    const series = await readSeries(redis, keys, ['gw1', 'gw2', 'gw3'], 'm', [minute], latest)
    expect(series.inbound.get(minute)).toEqual({ messages_accepted: 9, queue_depth: 3, queue_depth_max: 5, queue_oldest_seconds: 900, queue_oldest_seconds_max: 900 })
    expect(series.outbound.size).toBe(0)
    expect([...latest.inbound]).toEqual([['gw1', { bucket: minute, depth: 2, oldest: 120 }], ['gw2', { bucket: minute, depth: 1, oldest: 900 }]])
    await redis.del(...['gw1', 'gw2', 'gw3'].map((n) => keys.bucket('m', 'inbound', n, minute)))
  })
})
