// Unit tests for the AUTH lockout: against a real Redis (only wrong passwords
// count, per IP and per user, with an expiry; locked attempts write nothing;
// parallel correct attempts all pass while parallel wrong ones get at most
// `limit` checks; crashed leases expire; a check outliving its lease is withheld)
// and in memory on an injected clock (same contract, window expiry, waiting and
// its deadline, prototype names), plus the fallback when Redis fails.
import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { AuthLockout, type LockoutOptions, type LockoutPolicy } from './lockout'

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())
let n = 0
const freshKeys = () => new RedisKeys(`lockout-unit-${process.pid}-${++n}`)
const quiet = () => {}
const right = () => Promise.resolve(true)
const wrong = () => Promise.resolve(false)

/** A password check that takes `ms` and records how many run at once. */
function slowCheck(result: boolean, ms: number) {
  const stats = { calls: 0, running: 0, maxRunning: 0 }
  const check = async () => {
    stats.calls++
    stats.maxRunning = Math.max(stats.maxRunning, ++stats.running)
    await new Promise((r) => setTimeout(r, ms))
    stats.running--
    return result
  }
  return { check, stats }
}

/** A password check the test finishes by hand. */
function heldCheck() {
  let finish: (ok: boolean) => void = () => {}
  let started = false
  const check = () => {
    started = true
    return new Promise<boolean>((resolve) => (finish = resolve))
  }
  return { check, finish: (ok: boolean) => finish(ok), started: () => started }
}

function clock(start = 5_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => void (t += ms) }
}

describe('RedisKeys for AUTH failures and leases', () => {
  it('builds "<prefix>:authfail:{ip,user}:<x>" and "<prefix>:authlease:{ip,user}:<x>"', () => {
    const keys = new RedisKeys('gw')
    expect(keys.authFailuresByIp('192.0.2.7')).toBe('gw:authfail:ip:192.0.2.7')
    expect(keys.authFailuresByIp('2001:db8::1')).toBe('gw:authfail:ip:2001:db8::1')
    expect(keys.authFailuresByUser('app@example.com')).toBe('gw:authfail:user:app@example.com')
    expect(keys.authLeasesByIp('192.0.2.7')).toBe('gw:authlease:ip:192.0.2.7')
    expect(keys.authLeasesByUser('app@example.com')).toBe('gw:authlease:user:app@example.com')
  })
})

describe('AuthLockout with Redis', () => {
  const make = (policy: LockoutPolicy, opts: LockoutOptions = {}, keys = freshKeys()) => ({ keys, lockout: new AuthLockout(() => redis, keys, policy, quiet, opts) })

  it('counts only wrong passwords, per IP and per user, with an expiry, and locks at exactly the limit', async () => {
    const { keys, lockout } = make({ maxPerIp: 3, maxPerUser: 2, windowSeconds: 60 })
    expect(await lockout.attempt('192.0.2.1', 'alice', right)).toEqual({ kind: 'succeeded' })
    expect(await redis.exists(keys.authFailuresByIp('192.0.2.1'), keys.authFailuresByUser('alice'))).toBe(0)
    expect(await lockout.attempt('192.0.2.1', 'bob', wrong)).toEqual({ kind: 'failed', late: false })
    expect(await lockout.attempt('192.0.2.1', 'alice', right)).toEqual({ kind: 'succeeded' }) // a success resets nothing
    expect(await lockout.attempt('192.0.2.1', 'carol', wrong)).toEqual({ kind: 'failed', late: false })
    expect(await lockout.attempt('192.0.2.1', 'dave', wrong)).toEqual({ kind: 'failed', late: false, locked: { by: 'ip', failures: 3 } })
    const ttl = await redis.pttl(keys.authFailuresByIp('192.0.2.1'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)

    // locked: refused unchecked, right password or not, and nothing written
    let checked = false
    const spy = () => ((checked = true), Promise.resolve(true))
    expect(await lockout.attempt('192.0.2.1', 'alice', spy)).toEqual({ kind: 'locked', by: 'ip', failures: 3 })
    expect(await lockout.attempt('192.0.2.1', 'erin', wrong)).toEqual({ kind: 'locked', by: 'ip', failures: 3 })
    expect(checked).toBe(false)
    expect(await redis.get(keys.authFailuresByIp('192.0.2.1'))).toBe('3')
    expect(await redis.exists(keys.authFailuresByUser('erin'))).toBe(0)
    expect(await redis.pttl(keys.authFailuresByIp('192.0.2.1'))).toBeLessThanOrEqual(ttl)

    // another address is unaffected; the user count is its own
    expect(await lockout.attempt('192.0.2.2', 'alice', right)).toEqual({ kind: 'succeeded' })
    expect(await lockout.attempt('192.0.2.3', 'frank', wrong)).toEqual({ kind: 'failed', late: false })
    expect(await lockout.attempt('192.0.2.4', 'frank', wrong)).toEqual({ kind: 'failed', late: false, locked: { by: 'user', failures: 2 } })
    expect(await lockout.attempt('192.0.2.5', 'frank', right)).toEqual({ kind: 'locked', by: 'user', failures: 2 })
    expect(await redis.pttl(keys.authFailuresByUser('frank'))).toBeGreaterThan(0)
  })

  it('a password already known to be right asks only the lock: one MGET, no lease, and a lock still refuses it', async () => {
    const { keys, lockout } = make({ maxPerIp: 2, maxPerUser: 2, windowSeconds: 60 })
    const commands: string[] = []
    const counting = new Proxy(redis, {
      get: (target, prop) => {
        const v = Reflect.get(target, prop, target)
        return typeof v === 'function' && ['mget', 'eval', 'evalsha', 'get'].includes(String(prop)) ? (...a: unknown[]) => (commands.push(String(prop)), v.apply(target, a)) : v
      },
    })
    const known = new AuthLockout(() => counting, keys, { maxPerIp: 2, maxPerUser: 2, windowSeconds: 60 }, quiet)
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => known.attemptKnown('192.0.2.30', 'server')))
    expect(outcomes).toEqual(Array(20).fill({ kind: 'succeeded' }))
    expect(commands).toEqual(Array(20).fill('mget')) // one round trip each, no admit/finish scripts
    expect(await redis.exists(keys.authLeasesByIp('192.0.2.30'), keys.authLeasesByUser('server'))).toBe(0)
    // two wrong guesses lock the user: the remembered right password is refused too, and counts nothing
    await lockout.attempt('192.0.2.31', 'server', wrong)
    await lockout.attempt('192.0.2.32', 'server', wrong)
    expect(await known.attemptKnown('192.0.2.30', 'server')).toEqual({ kind: 'locked', by: 'user', failures: 2 })
    expect(await redis.get(keys.authFailuresByUser('server'))).toBe('2')
  })

  it('lets 30 parallel correct attempts all in, checking at most `limit` at a time, and gives every lease back', async () => {
    const { keys, lockout } = make({ maxPerIp: 3, maxPerUser: 3, windowSeconds: 60 })
    const { check, stats } = slowCheck(true, 20)
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => lockout.attempt('192.0.2.7', 'server', check)))
    expect(outcomes).toEqual(Array(30).fill({ kind: 'succeeded' }))
    expect(stats.maxRunning).toBeLessThanOrEqual(3)
    expect(await redis.exists(keys.authFailuresByIp('192.0.2.7'), keys.authLeasesByIp('192.0.2.7'), keys.authLeasesByUser('server'))).toBe(0)
  })

  it('gives 20 parallel wrong passwords exactly `limit` checks; the rest are refused unchecked and count nothing', async () => {
    const { keys, lockout } = make({ maxPerIp: 3, maxPerUser: 0, windowSeconds: 60 })
    const { check, stats } = slowCheck(false, 20)
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => lockout.attempt('192.0.2.8', `guess${i}`, check)))
    expect(stats.calls).toBe(3)
    expect(outcomes.filter((o) => o.kind === 'failed')).toHaveLength(3)
    expect(outcomes.filter((o) => o.kind === 'locked')).toHaveLength(17)
    expect(await redis.get(keys.authFailuresByIp('192.0.2.8'))).toBe('3')
  })

  it('lets right passwords in alongside wrong ones until the wrong ones reach the limit', async () => {
    const { keys, lockout } = make({ maxPerIp: 0, maxPerUser: 3, windowSeconds: 60 })
    const ok = slowCheck(true, 10)
    const bad = slowCheck(false, 10)
    const outcomes = await Promise.all(Array.from({ length: 22 }, (_, i) => lockout.attempt(`192.0.2.${i}`, 'mixed', i % 11 === 0 ? bad.check : ok.check)))
    expect(outcomes.filter((o) => o.kind === 'succeeded')).toHaveLength(20)
    expect(outcomes.filter((o) => o.kind === 'failed')).toHaveLength(2)
    expect(await redis.get(keys.authFailuresByUser('mixed'))).toBe('2')
  })

  it('waits for in-flight checks rather than refusing, and answers "busy" (uncounted) at the deadline', async () => {
    const { keys, lockout } = make({ maxPerIp: 1, maxPerUser: 0, windowSeconds: 60 }, { waitMs: 150 })
    const first = heldCheck()
    const inFlight = lockout.attempt('192.0.2.9', 'a', first.check)
    while (!first.started()) await new Promise((r) => setTimeout(r, 5))
    expect(await lockout.attempt('192.0.2.9', 'b', right)).toEqual({ kind: 'busy' })
    expect(await redis.exists(keys.authFailuresByIp('192.0.2.9'))).toBe(0)
    // a waiter admitted once the in-flight check is done
    const waiting = lockout.attempt('192.0.2.9', 'c', right)
    setTimeout(() => first.finish(true), 50)
    expect(await waiting).toEqual({ kind: 'succeeded' })
    expect(await inFlight).toEqual({ kind: 'succeeded' })
  })

  it('drops a lease left by a crashed node once it expires, and gives the lease set an expiry', async () => {
    const keys = freshKeys()
    const crashed = new AuthLockout(() => redis, keys, { maxPerIp: 1, maxPerUser: 0, windowSeconds: 60 }, quiet, { leaseMs: 200 })
    void crashed.attempt('192.0.2.10', 'a', () => new Promise<boolean>(() => {})) // never finishes
    await new Promise((r) => setTimeout(r, 20))
    expect(await redis.zcard(keys.authLeasesByIp('192.0.2.10'))).toBe(1)
    const ttl = await redis.pttl(keys.authLeasesByIp('192.0.2.10'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(200)
    const other = new AuthLockout(() => redis, keys, { maxPerIp: 1, maxPerUser: 0, windowSeconds: 60 }, quiet, { waitMs: 2000 })
    expect(await other.attempt('192.0.2.10', 'b', right)).toEqual({ kind: 'succeeded' })
  })

  it('withholds the result of a check that outlived its lease (its slot may have been given away), counting only a wrong password', async () => {
    const { keys, lockout } = make({ maxPerIp: 5, maxPerUser: 0, windowSeconds: 60 }, { leaseMs: 50 })
    expect(await lockout.attempt('192.0.2.11', 'a', slowCheck(false, 150).check)).toEqual({ kind: 'failed', late: true })
    expect(await redis.get(keys.authFailuresByIp('192.0.2.11'))).toBe('1')
    expect(await lockout.attempt('192.0.2.11', 'a', slowCheck(true, 150).check)).toEqual({ kind: 'late' })
    expect(await redis.get(keys.authFailuresByIp('192.0.2.11'))).toBe('1')
  })

  it('gives back the lease of a check that throws, counting nothing', async () => {
    const { keys, lockout } = make({ maxPerIp: 1, maxPerUser: 0, windowSeconds: 60 })
    await expect(lockout.attempt('192.0.2.12', 'a', () => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed')
    expect(await redis.exists(keys.authFailuresByIp('192.0.2.12'), keys.authLeasesByIp('192.0.2.12'))).toBe(0)
    expect(await lockout.attempt('192.0.2.12', 'a', right)).toEqual({ kind: 'succeeded' })
  })

  it('gives a failure counter found without an expiry one, so no counter can live forever', async () => {
    const { keys, lockout } = make({ maxPerIp: 100, maxPerUser: 100, windowSeconds: 30 })
    await redis.set(keys.authFailuresByIp('192.0.2.9'), '5')
    await lockout.attempt('192.0.2.9', 'x', wrong)
    expect(await redis.get(keys.authFailuresByIp('192.0.2.9'))).toBe('6')
    expect(await redis.ttl(keys.authFailuresByIp('192.0.2.9'))).toBeGreaterThan(0)
  })

  it('does not count names that can never be users, nor what a limit of 0 turns off; prototype names are names', async () => {
    const { keys, lockout } = make({ maxPerIp: 0, maxPerUser: 1, windowSeconds: 30 })
    expect(await lockout.attempt('192.0.2.1', 'not a user name', wrong)).toEqual({ kind: 'failed', late: false })
    expect(await redis.keys(`${keys.prefix}:*`)).toEqual([])
    expect(await lockout.attempt('192.0.2.1', '__proto__', wrong)).toEqual({ kind: 'failed', late: false, locked: { by: 'user', failures: 1 } })
    expect(await redis.keys(`${keys.prefix}:*`)).toEqual([keys.authFailuresByUser('__proto__')])
  })
})

describe('AuthLockout in memory (no Redis), on an injected clock', () => {
  /** `polls: 'advance'`: each poll moves the clock on by its delay; 'still': time stands still while waiters yield. */
  function memory(policy: LockoutPolicy, opts: LockoutOptions = {}, polls: 'advance' | 'still' = 'advance') {
    const c = clock()
    const sleep = (ms: number) => (polls === 'advance' && c.advance(ms), new Promise<void>((r) => setTimeout(r, 1)))
    return { c, lockout: new AuthLockout(undefined, freshKeys(), policy, quiet, { now: c.now, sleep, ...opts }) }
  }

  it('counts wrong passwords only, locks at the limit without counting locked attempts, and unlocks when the window ends', async () => {
    const { c, lockout } = memory({ maxPerIp: 2, maxPerUser: 0, windowSeconds: 10 })
    expect(await lockout.attempt('192.0.2.1', 'a', wrong)).toEqual({ kind: 'failed', late: false })
    expect(await lockout.attempt('192.0.2.1', 'a', right)).toEqual({ kind: 'succeeded' })
    c.advance(4_000)
    expect(await lockout.attempt('192.0.2.1', 'b', wrong)).toEqual({ kind: 'failed', late: false, locked: { by: 'ip', failures: 2 } })
    for (let i = 0; i < 5; i++) expect(await lockout.attempt('192.0.2.1', 'a', right)).toEqual({ kind: 'locked', by: 'ip', failures: 2 })
    expect(await lockout.attempt('192.0.2.2', 'a', right)).toEqual({ kind: 'succeeded' })
    c.advance(5_999) // the window began with the first failure, 10 s ago minus 1 ms; refusals did not extend it
    expect((await lockout.attempt('192.0.2.1', 'a', right)).kind).toBe('locked')
    c.advance(1)
    expect(await lockout.attempt('192.0.2.1', 'a', right)).toEqual({ kind: 'succeeded' })
  })

  it('lets parallel correct attempts all in, limit at a time, and gives parallel wrong ones exactly limit checks', async () => {
    const { lockout } = memory({ maxPerIp: 3, maxPerUser: 3, windowSeconds: 60 }, {}, 'still')
    const ok = slowCheck(true, 2)
    expect(await Promise.all(Array.from({ length: 30 }, () => lockout.attempt('192.0.2.3', 'server', ok.check)))).toEqual(Array(30).fill({ kind: 'succeeded' }))
    expect(ok.stats.maxRunning).toBeLessThanOrEqual(3)
    const bad = slowCheck(false, 2)
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => lockout.attempt('192.0.2.4', 'victim', bad.check)))
    expect(bad.stats.calls).toBe(3)
    expect(outcomes.filter((o) => o.kind === 'locked')).toHaveLength(17)
  })

  it('answers "busy" at the deadline while another check is in flight, then admits once it is done', async () => {
    const { lockout } = memory({ maxPerIp: 1, maxPerUser: 0, windowSeconds: 60 }, { waitMs: 1_000 })
    const first = heldCheck()
    const inFlight = lockout.attempt('192.0.2.5', 'a', first.check)
    await new Promise((r) => setImmediate(r))
    expect(first.started()).toBe(true)
    expect(await lockout.attempt('192.0.2.5', 'b', right)).toEqual({ kind: 'busy' })
    first.finish(false)
    expect(await inFlight).toEqual({ kind: 'failed', late: false, locked: { by: 'ip', failures: 1 } })
  })

  it('expires a lease that is never given back, and withholds the failed result that comes after it', async () => {
    const { c, lockout } = memory({ maxPerIp: 1, maxPerUser: 0, windowSeconds: 60 }, { leaseMs: 500, waitMs: 2_000 })
    const stalled = heldCheck()
    const late = lockout.attempt('192.0.2.6', 'a', stalled.check)
    await new Promise((r) => setImmediate(r))
    // the waiter polls until the stalled lease expires (500 ms on the injected clock), then is checked
    expect(await lockout.attempt('192.0.2.6', 'b', right)).toEqual({ kind: 'succeeded' })
    c.advance(1)
    stalled.finish(false)
    expect(await late).toEqual({ kind: 'failed', late: true, locked: { by: 'ip', failures: 1 } })
  })

  it('keeps prototype names as ordinary user names', async () => {
    const { lockout } = memory({ maxPerIp: 0, maxPerUser: 1, windowSeconds: 60 })
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expect(await lockout.attempt('192.0.2.7', name, right)).toEqual({ kind: 'succeeded' })
      expect(await lockout.attempt('192.0.2.7', name, wrong)).toEqual({ kind: 'failed', late: false, locked: { by: 'user', failures: 1 } })
      expect(await lockout.attempt('192.0.2.7', name, right)).toEqual({ kind: 'locked', by: 'user', failures: 1 })
    }
    expect(await lockout.attempt('192.0.2.7', 'hasOwnProperty', right)).toEqual({ kind: 'succeeded' })
  })
})

describe('AuthLockout when Redis fails', () => {
  it('counts in memory for the attempt, never throws, and warns once rather than per attempt', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    dead.on('error', () => {})
    const warnings: string[] = []
    const lockout = new AuthLockout(() => dead, freshKeys(), { maxPerIp: 2, maxPerUser: 0, windowSeconds: 30 }, (m) => warnings.push(m))
    expect(await lockout.attempt('192.0.2.1', 'alice', wrong)).toEqual({ kind: 'failed', late: false })
    expect(await lockout.attempt('192.0.2.1', 'alice', right)).toEqual({ kind: 'succeeded' })
    expect(await lockout.attempt('192.0.2.1', 'alice', wrong)).toEqual({ kind: 'failed', late: false, locked: { by: 'ip', failures: 2 } })
    expect(await lockout.attempt('192.0.2.1', 'alice', right)).toEqual({ kind: 'locked', by: 'ip', failures: 2 })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^auth lockout: Redis unavailable \(.+\); counting in this process only/)
    dead.disconnect()
  })

  it('keeps a lockout counted in memory once Redis answers again without the counts', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    dead.on('error', () => {})
    let current = dead
    const lockout = new AuthLockout(() => current, freshKeys(), { maxPerIp: 0, maxPerUser: 2, windowSeconds: 30 }, quiet)
    await lockout.attempt('192.0.2.1', 'alice', wrong)
    await lockout.attempt('192.0.2.2', 'alice', wrong)
    current = redis // back, empty for these keys
    expect(await lockout.attempt('192.0.2.3', 'alice', right)).toEqual({ kind: 'locked', by: 'user', failures: 2 })
    expect(await lockout.attempt('192.0.2.3', 'bob', right)).toEqual({ kind: 'succeeded' })
    dead.disconnect()
  })
})
