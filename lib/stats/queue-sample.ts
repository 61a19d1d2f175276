// Samples of this process's delivery-queue depth, once a minute, into the node's
// minute, hour and day bucket hashes (`gateway report`): `queue_depth` is the
// latest sample (HSET), `queue_depth_max` the largest of the bucket. Both go to
// the write batch as one unit, never awaited: a Redis outage delays them like
// every counter, and a unit re-sent after a failed flush changes nothing (HSET
// and max are idempotent, unlike HINCRBY).
//
// Why the maximum is a Lua max in Redis rather than an HSET of a maximum kept in
// memory: a restart within the hour (or day), or a second process of the node,
// would start from 0 and overwrite a larger maximum already written.
// Only the depth is sampled: Haraka keeps no age of its oldest item (see
// lib/haraka/queue-stats.ts).

import type { Direction, RedisKeys } from '../redis/keys'
import type { WriteUnit } from '../redis/write-batch'
import { bucketOf, GRANULARITIES, type BucketTtls } from './buckets'
import { SAMPLE } from './fields'

/** HSETs each ARGV pair (field, value) of KEYS[1] that is larger than the field's current value. */
export const MAX_SCRIPT = [
  'for i = 1, #ARGV, 2 do',
  "  local v = tonumber(ARGV[i + 1])",
  "  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))",
  "  if cur == nil or v > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end",
  'end',
  'return 0',
].join('\n')

export const SAMPLE_INTERVAL_MS = 60_000

export interface QueueSampleTarget {
  readonly keys: RedisKeys
  readonly direction: Direction
  readonly node: string
  readonly ttls: BucketTtls
  /** The counter incremented if the unit is dropped (long Redis outage, buffer full). */
  readonly missed: () => { key: string; field: string }
}

/** The commands writing one sample taken at `now` (pure). The node list is refreshed too: an idle node with a queue stays listed. */
export function queueSampleUnit(target: QueueSampleTarget, depth: number, now: Date): WriteUnit {
  const { keys, direction, node, ttls } = target
  const commands: WriteUnit['commands'][number][] = []
  for (const g of GRANULARITIES) {
    const key = keys.bucket(g, direction, node, bucketOf(g, now))
    commands.push(['hset', key, SAMPLE.queueDepth, depth], ['eval', MAX_SCRIPT, 1, key, SAMPLE.queueDepthMax, depth], ['expire', key, ttls[g]])
  }
  const nodes = keys.nodes()
  commands.push(['sadd', nodes, node], ['expire', nodes, Math.max(...GRANULARITIES.map((g) => ttls[g]))])
  return { commands, missed: target.missed() }
}

export interface QueueSamplerOptions extends QueueSampleTarget {
  /** This process's queue depth, or undefined when it cannot be read (no sample then). */
  readonly depth: () => number | undefined
  readonly sink: { push(unit: WriteUnit): void }
  readonly intervalMs?: number
}

/** Takes a sample at start and then every interval (timer unref'd: never keeps the process alive). */
export class QueueSampler {
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly opts: QueueSamplerOptions) {}

  /** Samples now; false when the depth could not be read. */
  sample(now: Date = new Date()): boolean {
    const depth = this.opts.depth()
    if (depth === undefined) return false
    this.opts.sink.push(queueSampleUnit(this.opts, depth, now))
    return true
  }

  start(): void {
    if (this.timer) return
    this.sample()
    this.timer = setInterval(() => this.sample(), this.opts.intervalMs ?? SAMPLE_INTERVAL_MS)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
