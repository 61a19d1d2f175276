// How every `gateway` command finds the gateway that runs now, without a flag:
// the runtime file of a live `gateway start` (var/run/gateway.json) says which
// Redis it uses and where its instances listen. Precedence for each setting: an
// explicit environment variable (the operator asked for it), then the running
// launcher's file, then config/gateway.ini. A stale file is ignored and said so.

import path from 'node:path'

import type Redis from 'ioredis'

import { loadGatewayConfig, type GatewayConfig } from '../lib/config/gateway'
import { deploymentRoot, displayPath } from '../lib/config/paths'
import { parseHostPort, type HostPort } from '../lib/net/address'
import { createRedisClient, redact } from '../lib/redis/client'
import { RedisKeys } from '../lib/redis/keys'
import { redisFilesOf } from '../lib/redis/redis-files'
import { readRuntimeState, type RuntimeLookup, type RuntimeState } from '../lib/config/run-state'

export interface RunningGateway {
  readonly cfg: GatewayConfig
  readonly lookup: RuntimeLookup
  /** The live launcher's state, if one runs from this deployment root. */
  readonly state: RuntimeState | undefined
}

export function runningGateway(cfg = loadGatewayConfig()): RunningGateway {
  const lookup = readRuntimeState(deploymentRoot())
  return { cfg, lookup, state: lookup.kind === 'running' ? lookup.state : undefined }
}

/** One line about a runtime file that was ignored, or undefined. */
export function staleNote(g: RunningGateway): string | undefined {
  return g.lookup.kind === 'stale' ? `${displayPath(g.lookup.file)} ${g.lookup.why}; ignored` : undefined
}

const fromEnv = (name: string): string | undefined => process.env[name] || undefined

/** The inbound instance's first address: GATEWAY_INBOUND_LISTEN, else the running gateway's, else the configured one. */
export function inboundAddress(g: RunningGateway): HostPort {
  const running = g.state?.instances.inbound.listen[0]
  if (!fromEnv('GATEWAY_INBOUND_LISTEN') && running) return parseHostPort(running)
  return g.cfg.settings.inbound.listen[0]!
}

export interface RedisTarget {
  readonly url: string
  readonly prefix: string
  /** For messages: where the URL came from. */
  readonly source: string
}

export function redisTarget(g: RunningGateway): RedisTarget {
  const { redis } = g.cfg.settings
  // the configured prefix already applies GATEWAY_REDIS_PREFIX (and the cluster hash tag)
  const prefix = fromEnv('GATEWAY_REDIS_PREFIX') ? redis.prefix : (g.state?.redis.prefix ?? redis.prefix)
  const url = fromEnv('REDIS_URL')
  if (url) return { url, prefix, source: 'REDIS_URL' }
  if (g.state && g.state.redis.mode !== 'standalone') return { url: g.state.redis.url, prefix, source: `the running gateway (pid ${g.state.pid})` }
  // standalone: the instances keep trying the configured URL and write their counters there once it answers
  return { url: redis.url, prefix, source: `${displayPath(path.join(g.cfg.dir, 'gateway.ini'))} [redis] url` }
}

/**
 * A connected client for the Redis the running gateway uses, or one line saying
 * what was tried and how to get a gateway running (the caller exits 69).
 */
export async function connectGatewayRedis(g: RunningGateway): Promise<{ redis: Redis; target: RedisTarget } | { problem: string }> {
  const target = redisTarget(g)
  const { connect_timeout_ms } = g.cfg.settings.redis
  const redis = createRedisClient(target.url, {
    lazyConnect: true,
    connectTimeoutMs: connect_timeout_ms,
    maxRetriesPerRequest: 0,
    reconnect: false,
    failFast: false,
    files: redisFilesOf(g.cfg.settings.redis),
  })
  redis.on('error', () => {}) // the failure is reported below, once
  try {
    await redis.connect()
    return { redis, target }
  } catch (err) {
    redis.disconnect()
    return { problem: unreachable(g, target, (err as Error).message.replace(/\.$/, '')) }
  }
}

function unreachable(g: RunningGateway, target: RedisTarget, error: string): string {
  const at = `${redact(target.url)} (${target.source})`
  if (target.source === 'REDIS_URL') return `Redis is not reachable at REDIS_URL=${redact(target.url)}: ${error}; fix or unset REDIS_URL`
  const s = g.state
  if (s?.redis.mode === 'standalone') {
    return (
      `the running gateway (pid ${s.pid}, since ${s.startedAt}) runs standalone, without Redis: its counters are kept in each instance ` +
      `until Redis answers at ${at}; start Redis there and they are written within seconds`
    )
  }
  if (s) return `the running gateway (pid ${s.pid}, since ${s.startedAt}) uses Redis at ${redact(target.url)}, which does not answer: ${error}`
  const none = g.lookup.kind === 'stale' ? `${displayPath(g.lookup.file)} ${g.lookup.why}` : `no gateway is running here (no ${displayPath(g.lookup.file)})`
  return `${none}, and Redis is not reachable at ${at}: ${error}; start the gateway with "npm start" (or "node bin/gateway start"), or set REDIS_URL`
}

/**
 * How the reporting commands (stats, track, links) read the running gateway's
 * Redis: connect (or say in one line why not, exit 69), note a stale runtime
 * file, run `read`, and turn a failing Redis call into one line naming `what`
 * and exit 69. The client is closed in every case.
 */
export async function withGatewayRedis(what: string, read: (redis: Redis, keys: RedisKeys) => Promise<number>): Promise<number> {
  const gateway = runningGateway()
  const connected = await connectGatewayRedis(gateway)
  if ('problem' in connected) {
    console.error(`gateway: ${connected.problem}`)
    return 69 // EX_UNAVAILABLE
  }
  const note = staleNote(gateway)
  if (note) console.error(`gateway: note: ${note}`)
  const { redis, target } = connected
  try {
    return await read(redis, new RedisKeys(target.prefix))
  } catch (err) {
    console.error(`gateway: cannot read ${what} from Redis at ${redact(target.url)} (${target.source}): ${(err as Error).message}`)
    return 69
  } finally {
    redis.disconnect()
  }
}
