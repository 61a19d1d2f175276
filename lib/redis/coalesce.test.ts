// Repeated upkeep in one flush is sent once, and the keys end up exactly as if
// every command had been sent (checked against real Redis).

import Redis from 'ioredis'
import { afterAll, expect, inject, it } from 'vitest'

import { coalesceUpkeep } from './coalesce'
import type { RedisCommand } from './write-batch'

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

/** Three messages' units as tracking and link state write them, for one index, one node set, one stream. */
function flush(p: string): RedisCommand[] {
  const out: RedisCommand[] = []
  for (const [i, t] of [1000, 2000, 3000].entries()) {
    out.push(
      ['zadd', `${p}:idx:sender`, t, `id${i}`],
      ['expire', `${p}:idx:sender`, 600],
      ['zremrangebyscore', `${p}:idx:sender`, '-inf', `(${t - 1500}`],
      ['hset', `${p}:msg:${i}`, 'n', i],
      ['expire', `${p}:msg:${i}`, 600],
      ['sadd', `${p}:nodes`, 'node-a'],
      ['expire', `${p}:nodes`, 900],
      ['xadd', `${p}:events`, `${t}-0`, 'e', `m${i}`],
      ['xtrim', `${p}:events`, 'MINID', '~', `${t - 1500}-0`],
    )
  }
  return out
}

it('keeps one EXPIRE and one trim per key (the last), one SADD per member (the first), everything else in order', () => {
  const out = coalesceUpkeep(flush('k'))
  expect(out.filter(([n, k]) => n === 'expire' && k === 'k:idx:sender')).toHaveLength(1)
  expect(out.filter(([n]) => n === 'zremrangebyscore')).toEqual([['zremrangebyscore', 'k:idx:sender', '-inf', '(1500']])
  expect(out.filter(([n]) => n === 'sadd')).toHaveLength(1)
  expect(out.filter(([n]) => n === 'xtrim')).toEqual([['xtrim', 'k:events', 'MINID', '~', '1500-0']])
  expect(out.filter(([n]) => n === 'expire')).toHaveLength(5) // per message record (3), the index, the node set
  expect(out.filter(([n]) => ['zadd', 'hset', 'xadd'].includes(n))).toEqual(flush('k').filter(([n]) => ['zadd', 'hset', 'xadd'].includes(n)))
  expect(out.length).toBe(27 - 10)
})

it('leaves Redis in the same state as sending every command', async () => {
  const p = `coalesce-${process.pid}`
  const all = redis.multi()
  for (const [n, ...a] of flush(`${p}:all`)) all.call(n, ...a)
  await all.exec()
  const once = redis.multi()
  for (const [n, ...a] of coalesceUpkeep(flush(`${p}:once`))) once.call(n, ...a)
  await once.exec()
  const state = async (q: string) => ({
    index: await redis.zrange(`${q}:idx:sender`, 0, -1, 'WITHSCORES'),
    nodes: await redis.smembers(`${q}:nodes`),
    events: (await redis.xrange(`${q}:events`, '-', '+')).map(([id]) => id),
    records: await Promise.all([0, 1, 2].map((i) => redis.hgetall(`${q}:msg:${i}`))),
    ttls: await Promise.all([`${q}:idx:sender`, `${q}:nodes`, `${q}:msg:0`].map((k) => redis.ttl(k))),
  })
  const [a, b] = await Promise.all([state(`${p}:all`), state(`${p}:once`)])
  expect(b).toEqual(a)
  expect(a.index).toEqual(['id1', '2000', 'id2', '3000']) // id0 (1000) trimmed by the last cutoff (1500)
})
