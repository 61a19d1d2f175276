// The delivery queue's length as a gauge, read when scraped: Haraka's outbound
// queue (both instances deliver through it) reports "in progress/waiting/retrying"
// in outbound/queue.js get_stats(). That is a Haraka internal, read through
// lib/haraka/queue-stats.ts: a Haraka without it only loses this gauge (no series),
// never the endpoint.
// Each cluster worker has its own queue: the master sums them.

import { Gauge, type Registry } from 'prom-client'

import { parseQueueStats, queueStatsReader, type QueueStatsReader } from '../haraka/queue-stats'

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

/** Haraka's queue statistics through the plugin's haraka_require; undefined when this Haraka has no such function. */
export function harakaQueueStats(plugin: { haraka_require(path: string): unknown }): QueueStatsReader | undefined {
  return queueStatsReader(plugin)
}
