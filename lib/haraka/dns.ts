// Haraka's own DNS resolver: haraka-net-utils (pinned with Haraka, 1.9.3) makes
// every MX lookup of the delivery queue through one node:dns Resolver object of
// its own (lib/dns_config.js getDnsResolver, line 18, taken once by index.js
// line 3 and lib/get_mx.js line 3), which dns.setServers does not reach and no
// config of Haraka's sets (net-utils.ini has timeout and tries only). Not part of
// its documented API.
//
// It must be the copy Haraka loads: a second copy of haraka-net-utils (a nested
// node_modules) would have its own resolver. Loaded from Haraka's folder to be sure.

import { CHECKLIST, HarakaIncompatibleError, loaderOf, type HarakaInternal, type HarakaSource } from './internal'

/** A package, not one of Haraka's files: resolved from Haraka's folder (loaderOf). */
export const DNS_RESOLVER: HarakaInternal = {
  module: 'haraka-net-utils/lib/dns_config',
  member: ['getDnsResolver'],
  kind: 'function',
  usedBy: 'gateway-core ([dns] servers, the MX cache)',
}

type Resolver = import('node:dns').promises.Resolver
/** What the gateway uses of it: its servers ([dns] servers) and the lookups the route cache answers (lib/net/dns-cache.ts). */
export type HarakaResolver = Pick<Resolver, 'setServers' | 'getServers' | 'resolveMx' | 'resolve4' | 'resolve6'>
const USED: readonly (keyof HarakaResolver)[] = ['setServers', 'getServers', 'resolveMx', 'resolve4', 'resolve6']

/** The Resolver every MX lookup of Haraka's delivery queue goes through. */
export function harakaDnsResolver(source: HarakaSource): HarakaResolver {
  let resolver: unknown
  try {
    resolver = (loaderOf(source)(DNS_RESOLVER.module) as { getDnsResolver?: unknown }).getDnsResolver
    resolver = typeof resolver === 'function' ? (resolver as () => unknown)() : undefined
  } catch {
    resolver = undefined
  }
  const missing = USED.filter((m) => typeof (resolver as Record<string, unknown> | undefined)?.[m] !== 'function')
  if (missing.length > 0) {
    throw new HarakaIncompatibleError(`haraka-net-utils has no getDnsResolver().${missing.join('(), ')}() (used by ${DNS_RESOLVER.usedBy}); see ${CHECKLIST}`)
  }
  return resolver as HarakaResolver
}
