// Unit tests for the directory-harvest counter: in Redis with one atomic
// INCR+EXPIRE; without Redis, or when it fails, in memory with the same window
// (injected clock), so counts carry across sessions; and the slow/block policy.
import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { HarvestCounter, type HarvestPolicy } from './harvest'

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())
const policy: HarvestPolicy = { slowAfter: 2, blockAfter: 4, delayMs: 100, maxDelayMs: 150, windowSeconds: 60 }
const keys = new RedisKeys(`harvest-unit-${process.pid}`)
const quiet = () => {}

describe('HarvestCounter', () => {
  it('counts per IP in Redis with an expiry', async () => {
    const h = new HarvestCounter(() => redis, (ip) => keys.harvest(ip), policy, quiet)
    expect(await h.record('192.0.2.1')).toBe(1)
    expect(await h.record('192.0.2.1')).toBe(2)
    expect(await h.current('192.0.2.1')).toBe(2)
    expect(await h.current('192.0.2.2')).toBe(0)
    expect(await redis.ttl(keys.harvest('192.0.2.1'))).toBeGreaterThan(0)
  })

  it('counts in memory with the same window when Redis fails, and says so once', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    dead.on('error', () => {})
    let t = 0
    const warnings: string[] = []
    const h = new HarvestCounter(() => dead, (ip) => keys.harvest(ip), policy, (m) => warnings.push(m), { now: () => t })
    for (let i = 1; i <= 4; i++) expect(await h.record('192.0.2.3')).toBe(i)
    expect(await h.current('192.0.2.3')).toBe(4)
    expect(h.assess(await h.current('192.0.2.3')).block).toBe(true)
    t += 59_999
    expect(await h.current('192.0.2.3')).toBe(4)
    t += 1
    expect(await h.current('192.0.2.3')).toBe(0)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^harvest defence: Redis unavailable/)
    dead.disconnect()
  })

  it('keeps probes counted in memory once Redis answers again without them', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    dead.on('error', () => {})
    let current = dead
    const h = new HarvestCounter(() => current, (ip) => keys.harvest(ip), policy, quiet)
    for (let i = 1; i <= 4; i++) await h.record('192.0.2.9')
    current = redis
    expect(await h.current('192.0.2.9')).toBe(4)
    expect(await h.record('192.0.2.9')).toBe(5) // 1 in Redis + the outage's 4
    expect(h.assess(await h.current('192.0.2.9')).block).toBe(true)
    dead.disconnect()
  })

  it('reuses a count read at connect for 2 s per address, refreshed by every counted probe', async () => {
    let t = 0
    let gets = 0
    const counting = new Proxy(redis, {
      get: (target, prop) => (prop === 'get' ? (key: string) => (gets++, target.get(key)) : Reflect.get(target, prop, target)),
    })
    const here = new HarvestCounter(() => counting, (ip) => keys.harvest(ip), policy, quiet, { now: () => t })
    const otherNode = new HarvestCounter(() => redis, (ip) => keys.harvest(ip), policy, quiet)
    expect(await here.current('192.0.2.20')).toBe(0)
    for (let i = 0; i < 50; i++) expect(here.current('192.0.2.20')).toBe(0) // at once: no promise
    expect(gets).toBe(1) // 51 connections, one round trip
    await otherNode.record('192.0.2.20')
    await otherNode.record('192.0.2.20')
    t += 1_999
    expect(await here.current('192.0.2.20')).toBe(0) // another node's probes: seen after the interval
    t += 1
    expect(await here.current('192.0.2.20')).toBe(2)
    expect(gets).toBe(2)
    expect(await here.record('192.0.2.20')).toBe(3) // counted exactly, and the copy follows
    expect(await here.current('192.0.2.20')).toBe(3)
    expect(gets).toBe(2)
    expect(await here.current('192.0.2.21')).toBe(0) // each address read on its own
    expect(gets).toBe(3)
  })

  it('counts in memory without a warning when Redis is not configured', async () => {
    const warnings: string[] = []
    const h = new HarvestCounter(undefined, (ip) => keys.harvest(ip), policy, (m) => warnings.push(m), { now: () => 0 })
    await h.record('constructor')
    expect(await h.current('constructor')).toBe(1)
    expect(warnings).toEqual([])
  })

  it('slows after slow_after and blocks at block_after', () => {
    const h = new HarvestCounter(undefined, (ip) => ip, policy, quiet)
    expect([1, 2, 3, 4].map((n) => h.assess(n))).toEqual([
      { block: false, delayMs: 0 },
      { block: false, delayMs: 0 },
      { block: false, delayMs: 100 },
      { block: true, delayMs: 0 },
    ])
  })
})
