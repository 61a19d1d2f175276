// One shared ioredis client per process, created when the first plugin acquires
// it (in register(), so each Haraka cluster worker gets its own), with a bounded
// connect timeout and no offline queue: when Redis is down, commands fail at once
// instead of piling up in memory, and callers decide what that means for mail
// (for the gateway: nothing; mail keeps flowing).
//
// GATEWAY_REDIS_MODE=standalone (set by `gateway start` when it found no Redis)
// makes "no Redis" the expected state: said once at start, not as an ERROR every
// 30 s. The client still tries the URL, so a Redis that appears later is used.
//
// createRedisClient() is the one place any ioredis client of the gateway is made
// (plugins, CLI, dashboard, launcher probe, tools): one server, Sentinel or
// Cluster, as the URL says (connection-options.ts).

import Redis, { Cluster } from 'ioredis'

import { ConfigError } from '../config/errors'
import { connectionPlan, redactRedisUrl, type ClientBehaviour } from './connection-options'
import { readRedisFiles, type RedisFiles } from './redis-files'

export const REDIS_MODE_ENV = 'GATEWAY_REDIS_MODE'

export interface RedisOptions {
  url: string
  connectTimeoutMs: number
  /** The files [redis] names: the sentinels' password, the TLS CA and client certificate. */
  files?: RedisFiles
  /** Called (rate-limited) when the connection fails or recovers. */
  log: (level: 'error' | 'notice', message: string) => void
}

let client: Redis | undefined
/**
 * The [redis] files' contents, read when the first shared client is made (at
 * startup, where a bad file is a startup error) and kept: a client replaced later
 * is made inside a hook or a flush timer, where a file moved since must not throw.
 */
let secrets: ReturnType<typeof readRedisFiles> | undefined
let lastErrorLog = 0
/** Whether this process has had a working connection yet. */
let everReady = false
/** The last client ended by itself: the next one says when Redis is reachable again. */
let replacingEnded = false
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
  secrets ??= opts.files ? readRedisFiles(opts.files) : {}
  const c = clientFor(opts.url, {
    connectTimeoutMs: opts.connectTimeoutMs,
    commandTimeoutMs: opts.connectTimeoutMs,
    failFast: true,
    maxRetriesPerRequest: 1,
    // keep trying forever, at most every 5 s: Redis coming back must heal by itself
    reconnect: true,
    lazyConnect: false,
    ...secrets,
  })
  const replacing = replacingEnded
  replacingEnded = false
  if (standalone && !replacing) {
    opts.log('notice', `standalone mode (no Redis when the gateway started): counters are kept in this process and written to ${redact(opts.url)} once it answers`)
  }
  let wasDown = replacing
  c.on('error', (err: Error) => {
    wasDown = true
    if (standalone && !everReady) return // expected, and said once above
    const now = Date.now()
    if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return
    lastErrorLog = now
    opts.log('error', `redis unavailable (${redact(opts.url)}): ${err.message}; mail keeps flowing, counters are kept in memory`)
  })
  // A client that ended by itself (ioredis gives up on it, e.g. a Sentinel switch
  // arriving mid-reconnect) is forgotten: the next redisClient() call, which every
  // user makes per command, creates a new one instead of failing forever.
  c.on('end', () => {
    if (client !== c) return // closed on purpose (closeRedis)
    client = undefined
    replacingEnded = true
    opts.log('error', `redis client for ${redact(opts.url)} ended; a new one is created at the next use`)
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
  secrets = undefined
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
  return redactRedisUrl(url)
}

export interface ClientOptions extends Omit<ClientBehaviour, 'sentinelPassword' | 'tls'> {
  /** The files [redis] names (read now; their contents are never logged). */
  files?: RedisFiles
}

/**
 * A new ioredis client for `url` (one server, Sentinel or Cluster). A Cluster is
 * returned typed as Redis: it answers the same commands (the gateway's keys share
 * one hash slot there, see effectivePrefix), and the gateway's code uses no
 * command that differs between them.
 */
export function createRedisClient(url: string, opts: ClientOptions): Redis {
  const { files, ...behaviour } = opts
  return clientFor(url, { ...behaviour, ...(files ? readRedisFiles(files) : {}) })
}

function clientFor(url: string, behaviour: ClientBehaviour): Redis {
  const plan = connectionPlan(url, behaviour)
  if (plan.kind === 'server') return new Redis(plan.url, plan.options)
  if (plan.kind === 'sentinel') return new Redis(plan.options)
  return new Cluster(
    plan.nodes.map((n) => ({ host: n.host, port: n.port })),
    plan.options,
  ) as unknown as Redis
}

