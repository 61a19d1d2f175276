// The metrics of one gateway process, and what one scrape returns. With Haraka's
// cluster mode (smtp.ini nodes >= 1) the master forks workers that handle all
// mail: each worker keeps its own registry and answers the master's requests
// (prom-client's AggregatorRegistry, over the cluster IPC channel), and the
// master, which alone listens, returns their sum: one scrape is the node's
// whole truth. With nodes=0 the one process serves its own registry.

import cluster from 'node:cluster'

import { AggregatorRegistry, collectDefaultMetrics, Gauge, type PrometheusContentType } from 'prom-client'

import { MetricCounters } from './counters'
import type { Exposition } from './http'
import { deliveryQueueGauge, oldestQueuedGauge, type QueueStatsReader } from './queue-gauge'

export interface ProcessMetrics {
  readonly registry: AggregatorRegistry<PrometheusContentType>
  readonly counters: MetricCounters
  /** This scrape's text: the workers' sum in a cluster master that has workers, else this process's own. */
  render(): Promise<Exposition>
}

/** A registry labelled with instance and node, with the traffic counters and Node's process metrics. */
export function processMetrics(labels: { instance: string; node: string }, queueStats?: QueueStatsReader, queueFolder?: string): ProcessMetrics {
  // an AggregatorRegistry everywhere: its constructor is what makes a worker answer the master
  const registry = new AggregatorRegistry<PrometheusContentType>()
  registry.setDefaultLabels({ instance: labels.instance, node: labels.node })
  // standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...): what dashboards expect
  collectDefaultMetrics({ register: registry })
  const counters = new MetricCounters(registry)
  // 1 per process, summed by the master: how many workers this scrape holds (a missing one shows)
  new Gauge({ name: 'gateway_processes', help: 'Gateway processes whose metrics this scrape holds (cluster workers that answered, or 1).', registers: [registry], aggregator: 'sum' }).set(1)
  if (queueStats) deliveryQueueGauge(registry, queueStats)
  if (queueFolder !== undefined) oldestQueuedGauge(registry, queueFolder)
  if (cluster.isWorker) AggregatorRegistry.setRegistries([registry])
  return {
    registry,
    counters,
    async render() {
      if (cluster.isPrimary && hasWorkers()) return { contentType: registry.contentType, body: await registry.clusterMetrics() }
      return { contentType: registry.contentType, body: await registry.metrics() }
    },
  }
}

function hasWorkers(): boolean {
  return Object.values(cluster.workers ?? {}).some((w) => w?.isConnected())
}
