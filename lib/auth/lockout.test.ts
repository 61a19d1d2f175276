// Unit tests for the AUTH lockout against a real Redis: counting per IP and per
// user name with one atomic INCR+EXPIRE, the limits, invalid names, the key names,
// and Redis unavailable (nothing counted, nothing locked, no throw).
import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { AuthLockout } from './lockout'

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())
let n = 0
const freshKeys = () => new RedisKeys(`lockout-unit-${process.pid}-${++n}`)

describe('RedisKeys for AUTH failures', () => {
  it('builds "<prefix>:authfail:ip:<ip>" and "<prefix>:authfail:user:<name>"', () => {
    const keys = new RedisKeys('gw')
    expect(keys.authFailuresByIp('192.0.2.7')).toBe('gw:authfail:ip:192.0.2.7')
    expect(keys.authFailuresByIp('2001:db8::1')).toBe('gw:authfail:ip:2001:db8::1')
    expect(keys.authFailuresByUser('app@example.com')).toBe('gw:authfail:user:app@example.com')
  })
})

describe('AuthLockout', () => {
  it('counts attempts per IP and per user with an expiry, and locks at the limit', async () => {
    const keys = freshKeys()
    const lockout = new AuthLockout(() => redis, keys, { maxPerIp: 3, maxPerUser: 2, windowSeconds: 60 })
    const first = await lockout.begin('192.0.2.1', 'alice')
    expect(first.before).toEqual({ locked: false, counted: true })
    await lockout.succeeded('192.0.2.1', 'alice') // a success is not a failure
    expect((await lockout.begin('192.0.2.1', 'bob')).after).toEqual({ locked: false, counted: true })
    expect((await lockout.begin('192.0.2.1', 'carol')).after).toEqual({ locked: false, counted: true })
    expect((await lockout.begin('192.0.2.1', 'dave')).after).toEqual({ locked: true, by: 'ip', count: 3 })
    expect((await lockout.begin('192.0.2.1', 'alice')).before).toEqual({ locked: true, by: 'ip', count: 3 })
    expect((await lockout.begin('192.0.2.2', 'alice')).before).toEqual({ locked: false, counted: true })
    const ttl = await redis.ttl(keys.authFailuresByIp('192.0.2.1'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60)

    expect((await lockout.begin('192.0.2.3', 'erin')).after).toEqual({ locked: false, counted: true })
    expect((await lockout.begin('192.0.2.4', 'erin')).after).toEqual({ locked: true, by: 'user', count: 2 })
    expect((await lockout.begin('192.0.2.5', 'erin')).before).toEqual({ locked: true, by: 'user', count: 2 })
    expect(await redis.ttl(keys.authFailuresByUser('erin'))).toBeGreaterThan(0)
  })

  it('gives a key found without an expiry one, so no counter can live forever', async () => {
    const keys = freshKeys()
    await redis.set(keys.authFailuresByIp('192.0.2.9'), '5')
    const lockout = new AuthLockout(() => redis, keys, { maxPerIp: 100, maxPerUser: 100, windowSeconds: 30 })
    await lockout.begin('192.0.2.9', 'x')
    expect(await redis.ttl(keys.authFailuresByIp('192.0.2.9'))).toBeGreaterThan(0)
  })

  it('does not count names that can never be users, nor what a limit of 0 turns off', async () => {
    const keys = freshKeys()
    const lockout = new AuthLockout(() => redis, keys, { maxPerIp: 0, maxPerUser: 1, windowSeconds: 30 })
    expect((await lockout.begin('192.0.2.1', 'not a user name')).after).toEqual({ locked: false, counted: true })
    expect(await redis.keys(`${keys.prefix}:*`)).toEqual([])
    expect((await lockout.begin('192.0.2.1', '__proto__')).after).toEqual({ locked: true, by: 'user', count: 1 })
    expect(await redis.keys(`${keys.prefix}:*`)).toEqual([keys.authFailuresByUser('__proto__')])
  })

  it('refuses parallel attempts beyond the limit before their passwords are checked', async () => {
    const keys = freshKeys()
    const lockout = new AuthLockout(() => redis, keys, { maxPerIp: 3, maxPerUser: 0, windowSeconds: 60 })
    const attempts = await Promise.all(Array.from({ length: 20 }, () => lockout.begin('192.0.2.7', 'victim')))
    expect(attempts.filter((a) => !a.before.locked)).toHaveLength(3)
  })

  it('reports "not counted" and never throws or locks when Redis is unavailable', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    dead.on('error', () => {})
    const lockout = new AuthLockout(() => dead, freshKeys(), { maxPerIp: 1, maxPerUser: 1, windowSeconds: 30 })
    expect(await lockout.begin('192.0.2.1', 'alice')).toEqual({ before: { locked: false, counted: false }, after: { locked: false, counted: false } })
    await lockout.succeeded('192.0.2.1', 'alice') // must not throw either
    dead.disconnect()
  })
})
