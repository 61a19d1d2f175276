// The delivery-queue figures of a report, from the sampled fields of the buckets
// (lib/stats/queue-sample.ts), pure: the depth at the end of the range is the sum
// over nodes of each node's latest sample in the range (nodes sample at different
// seconds, so no single bucket holds all of them); the maximum is the largest
// bucket's `queue_depth_max` summed over nodes (read.ts adds nodes up): exact per
// minute, an upper bound per hour or day (nodes may peak at different times).

import type { Direction } from '../redis/keys'
import { SAMPLE } from '../stats/fields'
import type { Counters } from './model'

/** Per instance, node -> its latest bucket holding a queue_depth sample, and that sample. */
export type LatestSamples = Record<Direction, Map<string, { bucket: string; depth: number }>>

export function newLatestSamples(): LatestSamples {
  return { inbound: new Map(), outbound: new Map() }
}

/** Keeps `hash` (one node's bucket hash) as the node's latest sample if it holds one in a later bucket. */
export function noteSample(latest: LatestSamples, direction: Direction, node: string, bucket: string, hash: Readonly<Record<string, string>>): void {
  const raw = hash[SAMPLE.queueDepth]
  if (raw === undefined) return
  const depth = Number(raw)
  if (!Number.isFinite(depth)) return
  const seen = latest[direction].get(node)
  // bucket names of one granularity sort as time does
  if (!seen || bucket > seen.bucket) latest[direction].set(node, { bucket, depth })
}

export interface QueueFigures {
  /** Items queued at the end of the range: each node's latest sample, summed; null without any sample. */
  readonly depth: number | null
  /** The largest depth of a bucket (summed over nodes); null without any sample. */
  readonly depth_max: number | null
}

/**
 * Queue figures of one instance. Without per-node samples (`latest` undefined)
 * the depth is the latest bucket's queue_depth, summed over the nodes that sampled in it.
 */
export function queueFigures(series: ReadonlyMap<string, Counters>, latest: LatestSamples[Direction] | undefined): QueueFigures {
  let max: number | null = null
  let lastBucket: string | undefined
  for (const [bucket, c] of series) {
    const m = c[SAMPLE.queueDepthMax] ?? c[SAMPLE.queueDepth]
    if (m !== undefined && (max === null || m > max)) max = m
    if (c[SAMPLE.queueDepth] !== undefined && (lastBucket === undefined || bucket > lastBucket)) lastBucket = bucket
  }
  let depth: number | null
  if (latest) depth = latest.size === 0 ? null : [...latest.values()].reduce((s, x) => s + x.depth, 0)
  else depth = lastBucket === undefined ? null : (series.get(lastBucket)![SAMPLE.queueDepth] ?? null)
  return { depth, depth_max: max }
}
