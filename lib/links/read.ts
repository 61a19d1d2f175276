// Reads the link state of every destination of one or both instances from Redis
// (for `gateway links`): the set of destinations, then per destination its hash
// and its waiting messages, in one pipeline. Waiting entries older than
// WAITING_MAX_AGE_MS are left out (the writers trim them too).

import type Redis from 'ioredis'

import type { Direction, RedisKeys } from '../redis/keys'
import { parseLink, WAITING_MAX_AGE_MS, type LinkState } from './fields'

export async function readLinks(redis: Redis, keys: RedisKeys, instances: readonly Direction[], now: number): Promise<LinkState[]> {
  const states: LinkState[] = []
  for (const instance of instances) {
    const destinations = (await redis.smembers(keys.links(instance))).sort()
    if (destinations.length === 0) continue
    const minScore = now - WAITING_MAX_AGE_MS
    const pipeline = redis.pipeline()
    for (const d of destinations) {
      pipeline.hgetall(keys.link(instance, d))
      pipeline.zcount(keys.linkWaiting(instance, d), minScore, '+inf')
      pipeline.zrangebyscore(keys.linkWaiting(instance, d), minScore, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    }
    const replies = (await pipeline.exec()) ?? []
    destinations.forEach((destination, i) => {
      const [hashReply, countReply, oldestReply] = replies.slice(i * 3, i * 3 + 3)
      for (const r of [hashReply, countReply, oldestReply]) if (r?.[0]) throw r[0]
      const hash = (hashReply?.[1] ?? {}) as Record<string, string>
      const count = Number(countReply?.[1] ?? 0)
      const oldest = oldestReply?.[1] as string[] | undefined
      // a destination whose hash expired but is still in the set: nothing to show
      if (Object.keys(hash).length === 0 && count === 0) return
      states.push(parseLink(instance, destination, hash, { count, oldest: oldest && oldest.length === 2 ? Number(oldest[1]) : null }))
    })
  }
  return states
}
