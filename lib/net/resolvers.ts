// Points every DNS lookup the gateway makes at the configured resolvers: Node's
// default resolver (used by plugins such as SPF) and Haraka's own Resolver object
// in haraka-net-utils (used for MX lookups), which dns.setServers does not reach
// (lib/haraka/dns.ts).

import dns from 'node:dns'

import { harakaDnsResolver, type HarakaSource } from '../haraka'
import { formatHostPort, type HostPort } from './address'

export function applyDnsServers(haraka: HarakaSource, servers: readonly HostPort[]): void {
  if (servers.length === 0) return
  const list = servers.map(formatHostPort)
  dns.setServers(list)
  dns.promises.setServers(list)
  harakaDnsResolver(haraka).setServers(list)
}
