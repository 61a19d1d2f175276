// Runs the dashboard: a node:http server on one address, reading the gateway's
// Redis through its own client (reconnecting: the dashboard outlives Redis
// restarts), with a one-second cache per range so several open tabs cost one
// read, and settled buckets kept between reads (settled.ts).

import http from 'node:http'

import { readLinks } from '../links/read'
import { toJson } from '../links/view'
import { formatHostPort, type HostPort } from '../net/address'
import { createRedisClient } from '../redis/client'
import { RedisKeys } from '../redis/keys'
import type { RedisFiles } from '../redis/redis-files'
import type { BucketTtlSeconds } from '../report/granularity'
import { loadAssets } from './assets'
import { dashboardHandler, type DashboardSource } from './handler'
import { parseRange, type RangeName } from './range'
import { readSummary } from './read'
import { SettledBuckets } from './settled'
import type { SummaryV1 } from './summary'

export interface DashboardOptions {
  readonly listen: HostPort
  readonly token: string
  readonly redisUrl: string
  readonly redisPrefix: string
  readonly connectTimeoutMs: number
  /** The files [redis] names (sentinels' password, TLS CA and client certificate). */
  readonly redisFiles?: RedisFiles
  readonly ttls: BucketTtlSeconds
  readonly log: (line: string) => void
}

export interface RunningDashboard {
  /** http://host:port/ */
  readonly url: string
  close(): Promise<void>
}

const CACHE_MS = 1000

/** Listens (rejects with the listen error, e.g. EADDRINUSE) and serves until closed. */
export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const redis = createRedisClient(opts.redisUrl, {
    lazyConnect: true,
    connectTimeoutMs: opts.connectTimeoutMs,
    maxRetriesPerRequest: 1,
    // a page asking while Redis is away gets a 503 at once, not a hanging request
    failFast: true,
    reconnect: true,
    ...(opts.redisFiles ? { files: opts.redisFiles } : {}),
  })
  redis.on('error', () => {}) // each failed read says so in its answer and one log line
  // retried by retryStrategy; until this first attempt ends, a request waits for it (at most
  // connect_timeout_ms) instead of getting a 503 because the dashboard has only just started
  const connecting = redis.connect().catch(() => {})
  const firstConnection = (): Promise<void> | undefined => (redis.status === 'ready' ? undefined : connecting)
  const keys = new RedisKeys(opts.redisPrefix)
  const settled = new SettledBuckets()
  const cache = new Map<RangeName, { at: number; summary: Promise<SummaryV1> }>()
  const source: DashboardSource = {
    summary(range) {
      const now = Date.now()
      const hit = cache.get(range.name)
      if (hit && now - hit.at < CACHE_MS) return hit.summary
      const summary = Promise.resolve(firstConnection()).then(() => readSummary(redis, keys, opts.ttls, range, now, settled))
      cache.set(range.name, { at: now, summary })
      summary.catch(() => {
        if (cache.get(range.name)?.summary === summary) cache.delete(range.name) // a failure is not kept
      })
      return summary
    },
    async links() {
      await firstConnection()
      const now = Date.now()
      return toJson(await readLinks(redis, keys, ['inbound', 'outbound'], now), now)
    },
  }
  const server = http.createServer(dashboardHandler({ token: opts.token, assets: loadAssets(), source, log: opts.log }))
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: opts.listen.host, port: opts.listen.port, exclusive: true }, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    redis.disconnect()
    throw err
  }
  // the month view reads the most buckets: read them once now, so its first page load finds them settled
  source.summary(parseRange('30d')!).catch(() => {})
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : opts.listen.port
  return {
    url: `http://${formatHostPort({ host: opts.listen.host, port })}/`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      redis.disconnect()
    },
  }
}
