// The delivery queue's length as a gauge, read when scraped: Haraka's outbound
// queue (both instances deliver through it) reports "in progress/waiting/retrying"
// in outbound/queue.js get_stats(). That is a Haraka internal: read defensively,
// and a Haraka without it only loses this gauge (no series), never the endpoint.
// Each cluster worker has its own queue: the master sums them.

import { Gauge, type Registry } from 'prom-client'

export type QueueStatsReader = () => unknown

const STATES = ['delivering', 'waiting', 'retrying'] as const

/** "1/2/3" -> {delivering: 1, waiting: 2, retrying: 3}; undefined for anything else. */
export function parseQueueStats(text: unknown): Record<(typeof STATES)[number], number> | undefined {
  if (typeof text !== 'string') return undefined
  const m = /^(\d+)\/(\d+)\/(\d+)$/.exec(text)
  if (!m) return undefined
  return { delivering: Number(m[1]), waiting: Number(m[2]), retrying: Number(m[3]) }
}

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
  try {
    const queue = plugin.haraka_require('./outbound/queue') as { get_stats?: unknown } | undefined
    const getStats = queue?.get_stats
    return typeof getStats === 'function' ? () => (getStats as () => unknown)() : undefined
  } catch {
    return undefined
  }
}
