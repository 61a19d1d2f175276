// The delivery-queue figures of a report, from the sampled fields of the buckets
// (lib/stats/queue-sample.ts), pure: the depth at the end of the range is the sum
// over nodes of each node's latest sample in the range (nodes sample at different
// seconds, so no single bucket holds all of them), the oldest message's age at the
// end is the largest of those latest samples; the maxima are the largest bucket's
// `queue_depth_max` summed over nodes (read.ts adds nodes up: exact per minute, an
// upper bound per hour or day, as nodes may peak at different times) and the largest
// `queue_oldest_seconds_max` of any node (read.ts takes the largest: exact).

import type { Direction } from '../redis/keys'
import { SAMPLE } from '../stats/fields'
import type { Counters } from './model'

interface NodeSample {
  readonly bucket: string
  readonly depth: number
  /** Absent in buckets written before ages were sampled. */
  readonly oldest?: number
}

/** Per instance, node -> its latest bucket holding a queue_depth sample, and that sample. */
export type LatestSamples = Record<Direction, Map<string, NodeSample>>

export function newLatestSamples(): LatestSamples {
  return { inbound: new Map(), outbound: new Map() }
}

const finite = (raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined
  const n = Number(raw)
  return Number.isFinite(n) ? n : undefined
}

/** Keeps `hash` (one node's bucket hash) as the node's latest sample if it holds one in a later bucket. */
export function noteSample(latest: LatestSamples, direction: Direction, node: string, bucket: string, hash: Readonly<Record<string, string>>): void {
  const depth = finite(hash[SAMPLE.queueDepth])
  if (depth === undefined) return
  const seen = latest[direction].get(node)
  // bucket names of one granularity sort as time does
  if (seen && bucket <= seen.bucket) return
  const oldest = finite(hash[SAMPLE.queueOldestSeconds])
  latest[direction].set(node, oldest === undefined ? { bucket, depth } : { bucket, depth, oldest })
}

export interface QueueFigures {
  /** Items queued at the end of the range: each node's latest sample, summed; null without any sample. */
  readonly depth: number | null
  /** The largest depth of a bucket (summed over nodes); null without any sample. */
  readonly depth_max: number | null
  /** Seconds the oldest queued message had waited at the end of the range (largest over nodes; 0: empty); null without an age sample. */
  readonly oldest_seconds: number | null
  /** The longest any message was seen waiting in the range; null without an age sample. */
  readonly oldest_seconds_max: number | null
}

/** The largest of `field` (or its fallback) over the series' buckets, or null. */
function largest(series: ReadonlyMap<string, Counters>, field: string, fallback: string): number | null {
  let max: number | null = null
  for (const c of series.values()) {
    const m = c[field] ?? c[fallback]
    if (m !== undefined && (max === null || m > max)) max = m
  }
  return max
}

/** The latest bucket holding `field`, or undefined. */
function latestBucketWith(series: ReadonlyMap<string, Counters>, field: string): Counters | undefined {
  let last: string | undefined
  for (const [bucket, c] of series) if (c[field] !== undefined && (last === undefined || bucket > last)) last = bucket
  return last === undefined ? undefined : series.get(last)
}

/**
 * Queue figures of one instance. Without per-node samples (`latest` undefined)
 * the end figures come from the latest bucket holding a sample, combined over the nodes that sampled in it.
 */
export function queueFigures(series: ReadonlyMap<string, Counters>, latest: LatestSamples[Direction] | undefined): QueueFigures {
  let depth: number | null
  let oldest: number | null
  if (latest) {
    const samples = [...latest.values()]
    depth = samples.length === 0 ? null : samples.reduce((s, x) => s + x.depth, 0)
    const ages = samples.flatMap((x) => (x.oldest === undefined ? [] : [x.oldest]))
    oldest = ages.length === 0 ? null : Math.max(...ages)
  } else {
    depth = latestBucketWith(series, SAMPLE.queueDepth)?.[SAMPLE.queueDepth] ?? null
    oldest = latestBucketWith(series, SAMPLE.queueOldestSeconds)?.[SAMPLE.queueOldestSeconds] ?? null
  }
  return {
    depth,
    depth_max: largest(series, SAMPLE.queueDepthMax, SAMPLE.queueDepth),
    oldest_seconds: oldest,
    oldest_seconds_max: largest(series, SAMPLE.queueOldestSecondsMax, SAMPLE.queueOldestSeconds),
  }
}
