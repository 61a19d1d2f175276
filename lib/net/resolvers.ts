// Points every DNS lookup the gateway makes at the configured resolvers: Node's
// default resolver (used by plugins such as SPF) and Haraka's own Resolver object
// in haraka-net-utils (used for MX lookups), which dns.setServers does not reach
// (lib/haraka/dns.ts). And keeps the answers of both for their TTL (dns-cache.ts).

import dns from 'node:dns'

import { harakaDnsResolver, type HarakaSource } from '../haraka'
import { formatHostPort, type HostPort } from './address'
import { installRouteCache, installTxtCache } from './dns-cache'

export function applyDnsServers(haraka: HarakaSource, servers: readonly HostPort[]): void {
  if (servers.length === 0) return
  const list = servers.map(formatHostPort)
  dns.setServers(list)
  dns.promises.setServers(list)
  harakaDnsResolver(haraka).setServers(list)
}

/** TXT answers (every plugin) and the delivery queue's MX/A/AAAA answers kept for their TTL ([dns] *_cache_*). */
export function cacheDnsAnswers(haraka: HarakaSource, limits: { txt: CacheLimits; mx: CacheLimits }): void {
  if (limits.txt.maxTtlSeconds > 0 || limits.txt.maxNegativeTtlSeconds > 0) installTxtCache(limits.txt)
  if (limits.mx.maxTtlSeconds > 0 || limits.mx.maxNegativeTtlSeconds > 0) installRouteCache(harakaDnsResolver(haraka), limits.mx)
}

interface CacheLimits {
  maxTtlSeconds: number
  maxNegativeTtlSeconds: number
}
