// The delivery queue's length as a gauge, read when scraped: Haraka's outbound
// queue (both instances deliver through it) reports "in progress/waiting/retrying"
// in outbound/queue.js get_stats(). That is a Haraka internal, read through
// lib/haraka/queue-stats.ts: a Haraka without it only loses this gauge (no series),
// never the endpoint.
// Each cluster worker has its own queue: the master sums them.

import { Gauge, type Registry } from 'prom-client'

import { parseQueueStats, queueStatsReader, type QueueStatsReader } from '../haraka/queue-stats'
import { oldestAgeSeconds } from '../queue/oldest'

export { parseQueueStats, type QueueStatsReader }

const STATES = ['delivering', 'waiting', 'retrying'] as const

export function deliveryQueueGauge(registry: Registry, read: QueueStatsReader): void {
  new Gauge({
    name: 'gateway_delivery_queue_items',
    help: 'Delivery queue items (one per message and destination domain): being delivered, waiting for a delivery slot, waiting for a retry.',
    labelNames: ['state'],
    registers: [registry],
    aggregator: 'sum',
    collect() {
      this.reset()
      let stats: ReturnType<typeof parseQueueStats>
      try {
        stats = parseQueueStats(read())
      } catch {
        stats = undefined
      }
      if (!stats) return
      for (const s of STATES) this.set({ state: s }, stats[s])
    },
  })
}

/**
 * The age of the oldest queued message, read from the queue folder's file names at
 * each scrape (lib/queue/oldest.ts): 0 for an empty queue, NaN ("unknown": a gauge
 * without labels always has a sample) when the folder cannot be read. Every process of an instance shares the folder: a cluster's
 * master takes the largest (all the same), never their sum.
 */
export function oldestQueuedGauge(registry: Registry, folder: string): void {
  new Gauge({
    name: 'gateway_delivery_queue_oldest_seconds',
    help: 'Seconds the oldest message in the delivery queue has waited (0: the queue is empty).',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      try {
        this.set(await oldestAgeSeconds(folder, Date.now()))
      } catch {
        this.set(Number.NaN) // unreadable folder: unknown, never a failed scrape
      }
    },
  })
}

/** Haraka's queue statistics through the plugin's haraka_require; undefined when this Haraka has no such function. */
export function harakaQueueStats(plugin: { haraka_require(path: string): unknown }): QueueStatsReader | undefined {
  return queueStatsReader(plugin)
}
