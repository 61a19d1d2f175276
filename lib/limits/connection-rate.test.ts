// Unit tests for the connection-rate counter: in Redis with one atomic
// INCR+EXPIRE (shared by every node); when Redis fails, in this process with the
// same window, never "no limit" (injected clock).
import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { ConnectionRate } from './connection-rate'

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())
const keys = new RedisKeys(`connrate-unit-${process.pid}-${Math.floor(Math.random() * 1e9)}`)
const key = (ip: string) => keys.connectionRate('inbound', ip)

describe('ConnectionRate', () => {
  it('counts connections per address in Redis, with an expiry', async () => {
    const r = new ConnectionRate(() => redis, key, 60, () => {})
    expect([await r.hit('192.0.2.1'), await r.hit('192.0.2.1'), await r.hit('192.0.2.2')]).toEqual([1, 2, 1])
    expect(await redis.ttl(key('192.0.2.1'))).toBeGreaterThan(0)
    // a second node sees the same count
    const other = new ConnectionRate(() => redis, key, 60, () => {})
    expect(await other.hit('192.0.2.1')).toBe(3)
  })

  it('counts in this process with the same window when Redis fails, and says so', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    dead.on('error', () => {})
    let t = 0
    const warnings: string[] = []
    const r = new ConnectionRate(() => dead, key, 60, (m) => warnings.push(m), { now: () => t })
    for (let i = 1; i <= 3; i++) expect(await r.hit('192.0.2.3')).toBe(i)
    t += 60_000
    expect(await r.hit('192.0.2.3')).toBe(1)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^connection rate limit: Redis unavailable/)
    dead.disconnect()
  })

  it('counts in this process when Redis is not configured', async () => {
    const r = new ConnectionRate(undefined, key, 60, () => {})
    expect([await r.hit('192.0.2.4'), await r.hit('192.0.2.4')]).toEqual([1, 2])
  })
})
