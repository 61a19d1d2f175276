// Samples of this process's delivery-queue depth and of the age of the oldest
// queued message, once a minute, into the node's minute, hour and day bucket hashes
// (`gateway report`): `queue_depth` / `queue_oldest_seconds` are the latest sample
// (HSET), `..._max` the largest of the bucket. All go to the write batch as one
// unit, never awaited: a Redis outage delays them like every counter, and a unit
// re-sent after a failed flush changes nothing (HSET and max are idempotent,
// unlike HINCRBY).
//
// Why the maximum is a Lua max in Redis rather than an HSET of a maximum kept in
// memory: a restart within the hour (or day), or a second process of the node,
// would start from 0 and overwrite a larger maximum already written.
// Depth and age come from the queue folder's file names (lib/queue/oldest.ts), which
// every process of the instance shares, so all processes write the same figures
// (HSET and max: no harm). Not Haraka's own count: with smtp.ini nodes=N it is one
// worker's (the cluster master's is 0), and the last writer would win.

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

export interface QueueSample {
  readonly depth: number
  /** Seconds the oldest queued message has waited (0: empty); undefined when the folder could not be read. */
  readonly oldestSeconds?: number | undefined
}

/** The commands writing one sample taken at `now` (pure). The node list is refreshed too: an idle node with a queue stays listed. */
export function queueSampleUnit(target: QueueSampleTarget, sample: QueueSample, now: Date): WriteUnit {
  const { keys, direction, node, ttls } = target
  const { depth, oldestSeconds } = sample
  const commands: WriteUnit['commands'][number][] = []
  for (const g of GRANULARITIES) {
    const key = keys.bucket(g, direction, node, bucketOf(g, now))
    commands.push(['hset', key, SAMPLE.queueDepth, depth], ['eval', MAX_SCRIPT, 1, key, SAMPLE.queueDepthMax, depth])
    if (oldestSeconds !== undefined) {
      commands.push(['hset', key, SAMPLE.queueOldestSeconds, oldestSeconds], ['eval', MAX_SCRIPT, 1, key, SAMPLE.queueOldestSecondsMax, oldestSeconds])
    }
    commands.push(['expire', key, ttls[g]])
  }
  const nodes = keys.nodes()
  commands.push(['sadd', nodes, node], ['expire', nodes, Math.max(...GRANULARITIES.map((g) => ttls[g]))])
  return { commands, missed: target.missed() }
}

export interface QueueSamplerOptions extends QueueSampleTarget {
  /** The instance's queue depth, or undefined when it cannot be read (no sample then). */
  readonly depth: () => number | undefined | Promise<number | undefined>
  /** Seconds the oldest queued message has waited at `nowMs` (0: empty); a rejection means "unknown" (the depth is still written). */
  readonly oldestSeconds?: (nowMs: number) => Promise<number>
  readonly sink: { push(unit: WriteUnit): void }
  readonly intervalMs?: number
  /** Told once per failed age reading (the sampler never throws). */
  readonly onAgeError?: (err: Error) => void
}

/** Takes a sample at start and then every interval (timer unref'd: never keeps the process alive). */
export class QueueSampler {
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly opts: QueueSamplerOptions) {}

  /** Samples now; false when the depth could not be read. */
  async sample(now: Date = new Date()): Promise<boolean> {
    const read = this.opts.depth()
    const depth = read instanceof Promise ? await read : read // a synchronous reading stays synchronous
    if (depth === undefined) return false
    let oldestSeconds: number | undefined
    if (this.opts.oldestSeconds) {
      try {
        oldestSeconds = await this.opts.oldestSeconds(now.getTime())
      } catch (err) {
        this.opts.onAgeError?.(err as Error)
      }
    }
    this.opts.sink.push(queueSampleUnit(this.opts, { depth, oldestSeconds }, now))
    return true
  }

  start(): void {
    if (this.timer) return
    void this.sample()
    this.timer = setInterval(() => void this.sample(), this.opts.intervalMs ?? SAMPLE_INTERVAL_MS)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
