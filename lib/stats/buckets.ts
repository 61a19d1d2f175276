// Time buckets of the counters `gateway report` reads: per minute, hour and UTC day,
// per node and instance. The names of the buckets, and the writer that adds one
// counter increment to the three bucket hashes of "now", aggregated in memory.

import { perMinute } from '../cache/memo'
import { isoMinuteOf, type Direction, type RedisKeys } from '../redis/keys'
import type { WriteUnit } from '../redis/write-batch'

export type Granularity = 'm' | 'h' | 'd'
export const GRANULARITIES: readonly Granularity[] = ['m', 'h', 'd']

/** Milliseconds one bucket of each granularity spans. */
export const BUCKET_MS: Readonly<Record<Granularity, number>> = Object.freeze({ m: 60_000, h: 3_600_000, d: 86_400_000 })

/** The bucket `time` falls in, UTC: "YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH" or "YYYY-MM-DD". */
export function bucketOf(granularity: Granularity, time: Date | number): string {
  const iso = isoMinuteOf(typeof time === 'number' ? time : time.getTime())
  return iso.slice(0, granularity === 'm' ? 16 : granularity === 'h' ? 13 : 10)
}

/** The start of the bucket `time` falls in (ms since the epoch). */
export function bucketStart(granularity: Granularity, time: number): number {
  return Math.floor(time / BUCKET_MS[granularity]) * BUCKET_MS[granularity]
}

/** Every bucket from the one holding `sinceMs` to the one holding `untilMs`, oldest first. */
export function bucketsBetween(granularity: Granularity, sinceMs: number, untilMs: number): string[] {
  const out: string[] = []
  for (let t = bucketStart(granularity, sinceMs); t <= untilMs; t += BUCKET_MS[granularity]) out.push(bucketOf(granularity, t))
  return out
}

/** How long each granularity's hashes live (seconds). */
export type BucketTtls = Readonly<Record<Granularity, number>>

/** Where bucket increments go: the process's write batch (its counters carry a TTL per key). */
export interface CounterSink {
  incr(key: string, field: string, by: number, ttlSeconds: number): void
  push(unit: WriteUnit): void
}

export interface BucketWriterOptions {
  readonly keys: RedisKeys
  readonly direction: Direction
  readonly node: string
  readonly ttls: BucketTtls
  /** The counter incremented if the node-list refresh is dropped (long Redis outage, buffer full). */
  readonly missed: () => { key: string; field: string }
}

/** How often the node list (<prefix>:nodes) is refreshed: it only has to outlive the buckets it lets a report find. */
const NODES_REFRESH_MS = 60_000

/**
 * Adds counter increments to this node's minute, hour and day hashes of an
 * instance, each with its own TTL, through the batch's counters (kept across a
 * Redis outage like every counter), and keeps this node in <prefix>:nodes.
 */
export class BucketWriter {
  private nodesWrittenAt = -Infinity
  /** The minute, hour and day hash names of a time (some 20 counts a message fall in one minute). */
  private readonly keysAt = perMinute((ms): readonly string[] => {
    const { keys, direction, node } = this.opts
    return GRANULARITIES.map((g) => keys.bucket(g, direction, node, bucketOf(g, ms)))
  })

  constructor(
    private readonly sink: CounterSink,
    private readonly opts: BucketWriterOptions,
  ) {}

  count(field: string, by: number, now: Date = new Date()): void {
    if (by === 0) return
    const { ttls } = this.opts
    const hashes = this.keysAt(now.getTime())
    for (let i = 0; i < GRANULARITIES.length; i++) this.sink.incr(hashes[i]!, field, by, ttls[GRANULARITIES[i]!])
    if (now.getTime() - this.nodesWrittenAt < NODES_REFRESH_MS) return
    this.nodesWrittenAt = now.getTime()
    const { keys, node } = this.opts
    const nodes = keys.nodes()
    const longest = Math.max(...GRANULARITIES.map((g) => ttls[g]))
    this.sink.push({ commands: [['sadd', nodes, node], ['expire', nodes, longest]], missed: this.opts.missed() })
  }
}
