// The gateway's Redis connection as plugins use it: configured from
// config/gateway.ini, shared by every plugin of the process, closed when the last
// plugin that acquired it shuts down (so shutdown order between plugins does not matter).

import type Redis from 'ioredis'

import { gatewayConfig } from '../config/gateway'
import { closeRedis, redisClient } from './client'
import { RedisKeys } from './keys'
import { redisFilesOf } from './redis-files'

export interface GatewayRedis {
  /** The client (connected at acquire time). Commands reject at once while Redis is down. */
  client(): Redis
  keys: RedisKeys
  /** Give the connection back; the last release closes it. */
  release(): Promise<void>
}

let users = 0

export function acquireGatewayRedis(log: (level: 'error' | 'notice', message: string) => void): GatewayRedis {
  const { redis } = gatewayConfig().settings
  users++
  let released = false
  const client = () => redisClient({ url: redis.url, connectTimeoutMs: redis.connect_timeout_ms, files: redisFilesOf(redis), log })
  // Connect now, not on first use: with no offline queue, commands sent while the
  // connection is still being set up would fail (and e.g. harvest probes go uncounted).
  client()
  return {
    client,
    keys: new RedisKeys(redis.prefix),
    async release() {
      if (released) return
      released = true
      if (--users === 0) await closeRedis()
    },
  }
}
