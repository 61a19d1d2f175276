// The one write batch of a gateway process (see write-batch.ts), shared by every
// plugin that records traffic (gateway-stats, gateway-track, gateway-links), so
// a message's counters, record, events and link state leave in the same MULTI.
// The last plugin to release it writes what is pending and closes it.

import { redisExpectedDown } from './client'
import { acquireGatewayRedis, type GatewayRedis } from './gateway-redis'
import { dayOf, type Direction } from './keys'
import { WriteBatch } from './write-batch'
import { perMinute } from '../cache/memo'
import { gatewayConfig } from '../config/gateway'
import { notifyCount } from '../metrics/observe'
import { BucketWriter } from '../stats/buckets'
import { STAT } from '../stats/fields'

const FLUSH_INTERVAL_MS = 1000

export interface SharedBatch {
  readonly batch: WriteBatch
  readonly redis: GatewayRedis
  /**
   * Increments a counter of this instance's current daily hash (shared by all nodes)
   * and of this node's minute, hour and day hashes (`gateway report`), all in the next flush.
   */
  count(field: string, by?: number): void
  release(): Promise<void>
}

type Log = (level: 'error' | 'warn' | 'notice', message: string) => void

let shared: { batch: WriteBatch; redis: GatewayRedis; users: number } | undefined

export function acquireWriteBatch(instance: Direction, log: Log): SharedBatch {
  if (!shared) {
    const redis = acquireGatewayRedis((level, msg) => log(level, msg))
    const { settings } = gatewayConfig()
    let lastError = 0
    const batch = new WriteBatch({
      redis: redis.client,
      counterTtlSeconds: settings.redis.stats_ttl_days * 86_400,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      maxUnits: settings.tracking.buffer_max_units,
      errorCounter: () => ({ key: redis.keys.stats(instance, dayOf(new Date())), field: STAT.redisWriteFailures }),
      onCounted: notifyCount, // outage counters (failures, dropped units) reach the Prometheus endpoint too
      appliedMarker: (token) => redis.keys.flushMarker(token), // a flush whose reply was lost is never counted twice
      onError: (err) => {
        // standalone mode: keeping counters in memory is the plan, said once at start
        if (redisExpectedDown()) return
        // at most one line per outage burst: the Redis client logs the outage itself
        const now = Date.now()
        if (now - lastError < 30_000) return
        lastError = now
        log('warn', `counters and tracking kept in memory until Redis is back (${batch.pendingUnits} records/events waiting): ${err.message}`)
      },
    })
    batch.start()
    shared = { batch, redis, users: 0 }
  }
  const s = shared
  s.users++
  let released = false
  const { settings } = gatewayConfig()
  const buckets = new BucketWriter(s.batch, {
    keys: s.redis.keys,
    direction: instance,
    node: settings.node.name,
    ttls: { m: settings.stats.minute_ttl, h: settings.stats.hour_ttl, d: settings.stats.day_ttl },
    missed: () => ({ key: s.redis.keys.stats(instance, dayOf(new Date())), field: STAT.nodeListMissed }),
  })
  // the day's key, named once a minute rather than at each of ~20 counts a message
  const statsKeyAt = perMinute((ms) => s.redis.keys.stats(instance, dayOf(new Date(ms))))
  return {
    batch: s.batch,
    redis: s.redis,
    count: (field, by = 1) => {
      const now = new Date()
      s.batch.incr(statsKeyAt(now.getTime()), field, by)
      buckets.count(field, by, now)
      notifyCount(field, by) // the instance's Prometheus endpoint (gateway-metrics), if loaded
    },
    async release() {
      if (released) return
      released = true
      if (--s.users > 0) return
      shared = undefined
      await s.batch.stop()
      if (s.batch.pendingUnits > 0) log('error', `${s.batch.pendingUnits} records/events could not be written to Redis before shutdown`)
      await s.redis.release()
    },
  }
}
