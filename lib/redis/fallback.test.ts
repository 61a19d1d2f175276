// Unit tests for RedisOrMemory: Redis answers while it works; without Redis the
// memory alternative answers silently; when a Redis call fails the alternative
// answers and the operator is warned at most once per interval (injected clock).
import type Redis from 'ioredis'
import { describe, expect, it } from 'vitest'

import { RedisOrMemory } from './fallback'

const fakeRedis = {} as Redis

describe('RedisOrMemory', () => {
  it('uses Redis while it answers', async () => {
    const warnings: string[] = []
    const f = new RedisOrMemory(() => fakeRedis, 'x', (m) => warnings.push(m))
    expect(await f.run((r) => Promise.resolve(r === fakeRedis ? 'shared' : '?'), () => 'local')).toEqual({ value: 'shared', where: 'redis' })
    expect(warnings).toEqual([])
  })

  it('uses memory without a word when Redis is not configured', async () => {
    const warnings: string[] = []
    const f = new RedisOrMemory(undefined, 'x', (m) => warnings.push(m))
    expect(await f.run(() => Promise.resolve('shared'), () => 'local')).toEqual({ value: 'local', where: 'memory' })
    expect(warnings).toEqual([])
  })

  it('falls back to memory when a call fails, warning at most once per interval', async () => {
    let t = 1_000
    const warnings: string[] = []
    const f = new RedisOrMemory(() => fakeRedis, 'harvest defence', (m) => warnings.push(m), { intervalMs: 30_000, now: () => t })
    const failing = () => Promise.reject(new Error('Connection is closed.'))
    expect(await f.run(failing, () => 1)).toEqual({ value: 1, where: 'memory' })
    t += 29_999
    expect(await f.run(failing, () => 2)).toEqual({ value: 2, where: 'memory' })
    expect(warnings).toEqual(['harvest defence: Redis unavailable (Connection is closed.); counting in this process only, other nodes do not see these counts'])
    t += 1
    await f.run(failing, () => 3)
    expect(warnings).toHaveLength(2)
  })
})
