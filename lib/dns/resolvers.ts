// Points every DNS lookup the gateway makes at the configured resolvers: Node's
// default resolver (used by plugins such as SPF) and Haraka's own Resolver object
// in haraka-net-utils (used for MX lookups), which dns.setServers does not reach.

import dns from 'node:dns'

import { getDnsResolver } from 'haraka-net-utils/lib/dns_config'

import { formatHostPort, type HostPort } from '../net/address'

export function applyDnsServers(servers: readonly HostPort[]): void {
  if (servers.length === 0) return
  const list = servers.map(formatHostPort)
  dns.setServers(list)
  dns.promises.setServers(list)
  getDnsResolver().setServers(list)
}
