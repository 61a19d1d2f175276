// One shared ioredis client per process, created when the first plugin acquires
// it (in register(), so each Haraka cluster worker gets its own), with a bounded
// connect timeout and no offline queue: when Redis is down, commands fail at once
// instead of piling up in memory, and callers decide what that means for mail
// (for the gateway: nothing; mail keeps flowing).
//
// GATEWAY_REDIS_MODE=standalone (set by `gateway start` when it found no Redis)
// makes "no Redis" the expected state: said once at start, not as an ERROR every
// 30 s. The client still tries the URL, so a Redis that appears later is used.

import Redis from 'ioredis'

import { ConfigError } from '../config/errors'

export const REDIS_MODE_ENV = 'GATEWAY_REDIS_MODE'

export interface RedisOptions {
  url: string
  connectTimeoutMs: number
  /** Called (rate-limited) when the connection fails or recovers. */
  log: (level: 'error' | 'notice', message: string) => void
}

let client: Redis | undefined
let lastErrorLog = 0
/** Whether this process has had a working connection yet. */
let everReady = false
const ERROR_LOG_INTERVAL_MS = 30_000

/** Whether the gateway was started without Redis (standalone); a bad value is a ConfigError naming the variable. */
export function standaloneMode(): boolean {
  const mode = process.env[REDIS_MODE_ENV]
  if (mode === undefined || mode === '') return false
  if (mode === 'standalone') return true
  throw new ConfigError(`environment variable ${REDIS_MODE_ENV}`, '', `"${mode}" is not "standalone" (or unset: Redis expected)`)
}

/** True while Redis being unreachable is expected: standalone mode, before any connection worked. */
export function redisExpectedDown(): boolean {
  return !everReady && standaloneMode()
}

export function redisClient(opts: RedisOptions): Redis {
  if (client) return client
  const standalone = standaloneMode()
  const c = new Redis(opts.url, {
    connectTimeout: opts.connectTimeoutMs,
    commandTimeout: opts.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // keep trying forever, at most every 5 s: Redis coming back must heal by itself
    retryStrategy: (attempt) => Math.min(attempt * 250, 5000),
    lazyConnect: false,
  })
  if (standalone) {
    opts.log('notice', `standalone mode (no Redis when the gateway started): counters are kept in this process and written to ${redact(opts.url)} once it answers`)
  }
  let wasDown = false
  c.on('error', (err: Error) => {
    wasDown = true
    if (standalone && !everReady) return // expected, and said once above
    const now = Date.now()
    if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return
    lastErrorLog = now
    opts.log('error', `redis unavailable (${redact(opts.url)}): ${err.message}; mail keeps flowing, counters are kept in memory`)
  })
  c.on('ready', () => {
    if (standalone && !everReady) opts.log('notice', `redis reachable at ${redact(opts.url)}: counters kept so far are written there`)
    else if (wasDown) opts.log('notice', `redis reachable again (${redact(opts.url)})`)
    everReady = true
    wasDown = false
  })
  client = c
  return c
}

export async function closeRedis(): Promise<void> {
  const c = client
  client = undefined
  if (!c) return
  try {
    await Promise.race([c.quit(), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  } catch {
    // already closed or unreachable
  }
  c.disconnect()
}

/** A URL without its password, for logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}
