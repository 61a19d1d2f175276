// One shared ioredis client per process, created when the first plugin acquires
// it (in register(), so each Haraka cluster worker gets its own), with a bounded
// connect timeout and no offline queue: when Redis is down, commands fail at once
// instead of piling up in memory, and callers decide what that means for mail
// (for the gateway: nothing; mail keeps flowing).

import Redis from 'ioredis'

export interface RedisOptions {
  url: string
  connectTimeoutMs: number
  /** Called (rate-limited) when the connection fails or recovers. */
  log: (level: 'error' | 'notice', message: string) => void
}

let client: Redis | undefined
let lastErrorLog = 0
const ERROR_LOG_INTERVAL_MS = 30_000

export function redisClient(opts: RedisOptions): Redis {
  if (client) return client
  const c = new Redis(opts.url, {
    connectTimeout: opts.connectTimeoutMs,
    commandTimeout: opts.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // keep trying forever, at most every 5 s: Redis coming back must heal by itself
    retryStrategy: (attempt) => Math.min(attempt * 250, 5000),
    lazyConnect: false,
  })
  let wasDown = false
  c.on('error', (err: Error) => {
    wasDown = true
    const now = Date.now()
    if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return
    lastErrorLog = now
    opts.log('error', `redis unavailable (${redact(opts.url)}): ${err.message}; mail keeps flowing, counters are kept in memory`)
  })
  c.on('ready', () => {
    if (wasDown) opts.log('notice', `redis reachable again (${redact(opts.url)})`)
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
