// Reads the bucket counters a report needs from Redis: for each instance and
// bucket, the hashes of every node (or one), summed. Pipelined HGETALLs on keys
// built from the node set and the time range, never KEYS or SCAN.

import type Redis from 'ioredis'

import type { Direction, RedisKeys } from '../redis/keys'
import type { Granularity } from '../stats/buckets'
import type { Counters } from './model'
import { combinesByMax } from '../stats/fields'
import { noteSample, type LatestSamples } from './queue'

const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound']
/** Commands per pipeline: a 90-day hourly report over a few nodes stays a few round trips. */
const CHUNK = 2000

export type Series = Record<Direction, Map<string, Counters>>

/** The node names that wrote counters (sorted), or just `node`. */
export async function reportNodes(redis: Redis, keys: RedisKeys, node: string | undefined): Promise<string[]> {
  if (node !== undefined) return [node]
  return (await redis.smembers(keys.nodes())).sort()
}

/**
 * Per instance, bucket -> counters summed over `nodes`; buckets without counters are absent.
 * Sampled depths add up over nodes too (each node samples its own queue), sampled
 * ages take the largest node's (lib/stats/fields.ts combinesByMax); `latest`,
 * when given, collects each node's latest queue sample (lib/report/queue.ts).
 */
export async function readSeries(redis: Redis, keys: RedisKeys, nodes: readonly string[], granularity: Granularity, buckets: readonly string[], latest?: LatestSamples): Promise<Series> {
  const wanted: { direction: Direction; bucket: string; node: string; key: string }[] = []
  for (const direction of DIRECTIONS) {
    for (const bucket of buckets) for (const node of nodes) wanted.push({ direction, bucket, node, key: keys.bucket(granularity, direction, node, bucket) })
  }
  const series: Series = { inbound: new Map(), outbound: new Map() }
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const slice = wanted.slice(i, i + CHUNK)
    const pipeline = redis.pipeline()
    for (const w of slice) pipeline.hgetall(w.key)
    const replies = (await pipeline.exec()) ?? []
    slice.forEach((w, j) => {
      const [err, hash] = replies[j] ?? [new Error('no reply'), null]
      if (err) throw err
      const fields = Object.entries((hash ?? {}) as Record<string, string>)
      if (fields.length === 0) return
      if (latest) noteSample(latest, w.direction, w.node, w.bucket, hash as Record<string, string>)
      const sum = series[w.direction].get(w.bucket) ?? {}
      for (const [field, value] of fields) {
        const v = Number(value)
        sum[field] = combinesByMax(field) ? Math.max(sum[field] ?? v, v) : (sum[field] ?? 0) + v
      }
      series[w.direction].set(w.bucket, sum)
    })
  }
  return series
}
