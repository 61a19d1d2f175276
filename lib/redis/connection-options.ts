// What a Redis URL means for the gateway: one server, a Sentinel-managed master, or
// a Redis Cluster, and the ioredis options that connect to it. One string carries
// all of it ([redis] url or REDIS_URL), so every process (both instances, the CLI,
// the dashboard, `gateway start`) gets the same target through the same path:
//
//   redis://[user:password@]host:port[/db]        one server (rediss:// = TLS)
//   redis+sentinel://[user:password@]host:port,host:port/master-name[/db]
//                                                 the master the sentinels name; port defaults to 26379
//   redis+cluster://[user:password@]host:port,host:port
//                                                 a cluster, found from any of these nodes; port defaults to 6379
//   rediss+sentinel://..., rediss+cluster://...   the same over TLS: to the sentinels and to every
//                                                 data server (master, replicas, cluster nodes)
//
// TLS verifies the servers against [redis] tls_ca_file (else the system's CAs) and
// can present a client certificate (tls_cert_file, tls_key_file) to servers that
// require one (tls-auth-clients); redis-files.ts reads them.
//
// The password in the URL is the data password (of the master, replicas, cluster
// nodes). Sentinels with their own password get it from a file ([redis]
// sentinel_password_file), never from the URL, the environment or the command line.
// Error messages never repeat a password.

import type { ClusterOptions, RedisOptions } from 'ioredis'

import { formatHostPort, parseHostPort, type HostPort } from '../net/address'

export type RedisTarget =
  | { readonly kind: 'server'; readonly url: string }
  | { readonly kind: 'sentinel'; readonly tls: boolean; readonly sentinels: readonly HostPort[]; readonly name: string; readonly db: number; readonly username?: string; readonly password?: string }
  | { readonly kind: 'cluster'; readonly tls: boolean; readonly nodes: readonly HostPort[]; readonly username?: string; readonly password?: string }

const SENTINEL_PORT = 26379
const CLUSTER_PORT = 6379
const MASTER_NAME = /^[A-Za-z0-9_.-]{1,64}$/
const URL_FORMS = 'a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL (rediss+sentinel://, rediss+cluster:// with TLS)'

/** A URL without its password, for logs and messages. */
export function redactRedisUrl(url: string): string {
  // up to the last "@" before the path: a password with an unencoded "@" is still hidden whole
  return url.replace(/^([a-z+]+:\/\/)([^/]*)@/i, (_all, scheme: string, auth: string) => {
    const colon = auth.indexOf(':')
    return `${scheme}${colon < 0 ? auth : `${auth.slice(0, colon)}:***`}@`
  })
}

/** Parses a gateway Redis URL; throws a plain message (without the password) when it is not one. */
export function parseRedisUrl(url: string): RedisTarget {
  const shown = `"${redactRedisUrl(url)}"`
  if (/\s/.test(url)) throw new Error(`${shown} contains white space`)
  const m = /^([a-z+]+):\/\/(?:([^/]*)@)?([^/@]*)(\/.*)?$/i.exec(url)
  const scheme = m?.[1]?.toLowerCase()
  if (!m || !scheme) throw new Error(`${shown} is not ${URL_FORMS}`)
  if (scheme === 'redis' || scheme === 'rediss') {
    if (!m[3]) throw new Error(`${shown} names no host`)
    return { kind: 'server', url }
  }
  const form = /^(rediss?)\+(sentinel|cluster)$/.exec(scheme)
  if (!form) throw new Error(`${shown} is not ${URL_FORMS}`)
  const tls = form[1] === 'rediss'
  const credentials = userInfo(m[2], shown)
  const hosts = hostList(m[3] ?? '', form[2] === 'sentinel' ? SENTINEL_PORT : CLUSTER_PORT, shown)
  const path = (m[4] ?? '').split('/').slice(1)
  if (form[2] === 'cluster') {
    if (path.some((p) => p !== '')) throw new Error(`${shown}: a cluster URL has no path (a cluster has only database 0)`)
    return { kind: 'cluster', tls, nodes: hosts, ...credentials }
  }
  const [name = '', db = '0', ...rest] = path
  if (!MASTER_NAME.test(name)) throw new Error(`${shown}: give the master name the sentinels monitor after the hosts, e.g. redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster`)
  if (!/^\d{1,2}$/.test(db) || rest.length > 0) throw new Error(`${shown}: after the master name only a database number may follow (e.g. /mymaster/0)`)
  return { kind: 'sentinel', tls, sentinels: hosts, name, db: Number(db), ...credentials }
}

/** Whether the connections to `url` use TLS (rediss://, rediss+sentinel://, rediss+cluster://). */
export function usesTls(url: string): boolean {
  const t = parseRedisUrl(url)
  return t.kind === 'server' ? /^rediss:/i.test(t.url) : t.tls
}

function userInfo(raw: string | undefined, shown: string): { username?: string; password?: string } {
  if (raw === undefined) return {}
  const colon = raw.indexOf(':')
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part)
    } catch {
      throw new Error(`${shown}: the user name or password is not valid URL encoding (write % as %25)`)
    }
  }
  const username = decode(colon < 0 ? raw : raw.slice(0, colon))
  const password = colon < 0 ? undefined : decode(raw.slice(colon + 1))
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) }
}

function hostList(raw: string, defaultPort: number, shown: string): HostPort[] {
  const items = raw.split(',').map((s) => s.trim())
  if (items.length === 0 || items.some((s) => s === '')) throw new Error(`${shown}: give one or more host:port, separated by commas`)
  return items.map((s) => {
    try {
      return parseHostPort(s, defaultPort)
    } catch (err) {
      throw new Error(`${shown}: ${(err as Error).message}`)
    }
  })
}

/** True when keys must share one hash slot (multi-key commands, MULTI/EXEC and scripts on a cluster). */
export function isCluster(url: string): boolean {
  return parseRedisUrl(url).kind === 'cluster'
}

/**
 * The key prefix actually used: on a cluster it is a hash tag ("{gw}"), so every
 * key of the gateway lands in one slot and its multi-key commands, transactions and
 * scripts work. The price: one master holds all gateway keys (no sharding).
 */
export function effectivePrefix(prefix: string, url: string): string {
  return isCluster(url) && !/^\{.*\}$/.test(prefix) ? `{${prefix}}` : prefix
}

/** How a client behaves; the same for every kind of target. */
export interface ClientBehaviour {
  connectTimeoutMs: number
  /** Reject commands sent while not connected (true: fail at once; mail never waits on Redis). */
  failFast: boolean
  /** Keep reconnecting (at most every 5 s) or give up after the first failure (probes, one-shot commands). */
  reconnect: boolean
  lazyConnect: boolean
  /** Per-command timeout; none when undefined. */
  commandTimeoutMs?: number
  /** ioredis maxRetriesPerRequest. */
  maxRetriesPerRequest: number
  /** The sentinels' own password (read from sentinel_password_file), if they require one. */
  sentinelPassword?: string
  /** CA and client certificate for TLS URLs (read from [redis] tls_*_file); the system's CAs when undefined. */
  tls?: TlsMaterial
}

/** PEM texts: the CA to verify servers with, the client certificate and its key. */
export interface TlsMaterial {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
}

export type ConnectionPlan =
  | { readonly kind: 'server'; readonly url: string; readonly options: RedisOptions }
  | { readonly kind: 'sentinel'; readonly options: RedisOptions }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[]; readonly options: ClusterOptions }

/** The ioredis constructor arguments for `url` (pure: the factory in client.ts creates the client). */
export function connectionPlan(url: string, b: ClientBehaviour): ConnectionPlan {
  const target = parseRedisUrl(url)
  const retry = (attempt: number): number | null => (b.reconnect ? Math.min(attempt * 250, 5000) : null)
  const common: RedisOptions = {
    connectTimeout: b.connectTimeoutMs,
    enableOfflineQueue: !b.failFast,
    maxRetriesPerRequest: b.maxRetriesPerRequest,
    lazyConnect: b.lazyConnect,
    ...(b.commandTimeoutMs !== undefined ? { commandTimeout: b.commandTimeoutMs } : {}),
  }
  // ioredis: `tls: true` (what rediss:// alone means) is Node's defaults, the system's CAs
  const tls = { ...b.tls }
  if (target.kind === 'server') {
    const overTls = /^rediss:/i.test(target.url) ? { tls } : {}
    return { kind: 'server', url: target.url, options: { ...common, ...overTls, retryStrategy: retry } }
  }
  const auth = { ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) }
  if (target.kind === 'sentinel') {
    return {
      kind: 'sentinel',
      options: {
        ...common,
        ...auth,
        sentinels: target.sentinels.map((h) => ({ host: h.host, port: h.port })),
        name: target.name,
        db: target.db,
        ...(b.sentinelPassword ? { sentinelPassword: b.sentinelPassword } : {}),
        // the sentinels, then the master and replicas they name, all over TLS
        ...(target.tls ? { sentinelTLS: tls, tls, enableTLSForSentinelMode: true } : {}),
        retryStrategy: retry,
        sentinelRetryStrategy: retry,
        // a failover demotes the old master: its READONLY replies mean "ask the sentinels again"
        // (the sentinels also close the demoted master's client connections, which has the same effect)
        reconnectOnError: (err) => err.message.startsWith('READONLY'),
        // hear +switch-master from the sentinels: a planned failover (SENTINEL FAILOVER) moves the
        // client at once. A switch that arrives while the client is reconnecting (the master was
        // killed) can end an ioredis client for good: redisClient() replaces an ended client.
        failoverDetector: b.reconnect,
      },
    }
  }
  return {
    kind: 'cluster',
    nodes: target.nodes,
    options: {
      lazyConnect: b.lazyConnect,
      enableOfflineQueue: !b.failFast,
      clusterRetryStrategy: retry,
      slotsRefreshTimeout: b.connectTimeoutMs,
      redisOptions: { ...auth, ...(target.tls ? { tls } : {}), connectTimeout: b.connectTimeoutMs, maxRetriesPerRequest: b.maxRetriesPerRequest, ...(b.commandTimeoutMs !== undefined ? { commandTimeout: b.commandTimeoutMs } : {}) },
    },
  }
}

/** Where a target is, for messages: the URL without its password. */
export function describeTarget(url: string): string {
  const t = parseRedisUrl(url)
  if (t.kind === 'server') return redactRedisUrl(url)
  const overTls = t.tls ? ' (TLS)' : ''
  if (t.kind === 'sentinel') return `master "${t.name}" of sentinels ${t.sentinels.map(formatHostPort).join(',')}${overTls}`
  return `cluster at ${t.nodes.map(formatHostPort).join(',')}${overTls}`
}
