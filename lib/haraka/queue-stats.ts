// Haraka's delivery-queue size, read (not patched): outbound/queue.js get_stats()
// (line 109) returns "in progress/waiting for a slot/waiting for a retry" of this
// process's queue ("1/20/3"). Undocumented, but the only count Haraka keeps; a
// readdir of queue_dir would be O(files) and shared by cluster workers.
// Read by the Prometheus gauge (lib/metrics/queue-gauge.ts) and the queue-depth
// samples of gateway-stats (lib/stats/queue-sample.ts). The age of the oldest item
// is not read: Haraka keeps no such figure, and finding it means walking private
// queues (Queue.tasks, TimerQueue items) and parsing queue file names.

import { internalProblem, loaderOf, type HarakaInternal, type HarakaSource } from './internal'

export const QUEUE_STATS: HarakaInternal = {
  module: './outbound/queue',
  member: ['get_stats'],
  kind: 'function',
  usedBy: 'gateway-metrics (queue gauge) and gateway-stats (queue depth samples)',
}

export const QUEUE_STATS_INTERNALS: readonly HarakaInternal[] = [QUEUE_STATS]

/** Reads get_stats() once per call (its text, unparsed). */
export type QueueStatsReader = () => unknown

/** A reader of get_stats(), or undefined when this Haraka lacks it (callers then skip their figure, never fail). */
export function queueStatsReader(source: HarakaSource): QueueStatsReader | undefined {
  const load = loaderOf(source)
  if (internalProblem(load, QUEUE_STATS) !== undefined) return undefined
  const getStats = (load(QUEUE_STATS.module) as { get_stats: () => unknown }).get_stats
  return () => getStats()
}

const STATES = ['delivering', 'waiting', 'retrying'] as const
export type QueueStats = Record<(typeof STATES)[number], number>

/** "1/2/3" -> {delivering: 1, waiting: 2, retrying: 3}; undefined for anything else. */
export function parseQueueStats(text: unknown): QueueStats | undefined {
  if (typeof text !== 'string') return undefined
  const m = /^(\d+)\/(\d+)\/(\d+)$/.exec(text)
  if (!m) return undefined
  return { delivering: Number(m[1]), waiting: Number(m[2]), retrying: Number(m[3]) }
}

/** Items in this process's delivery queue in any state; undefined when unreadable (a throwing or changed get_stats). */
export function queueDepth(read: QueueStatsReader): number | undefined {
  let stats: QueueStats | undefined
  try {
    stats = parseQueueStats(read())
  } catch {
    return undefined
  }
  return stats && stats.delivering + stats.waiting + stats.retrying
}
