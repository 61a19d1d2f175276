// The shared gateway configuration (config/gateway.ini and config/accepted_domains),
// read once per process and validated against one schema. Both instances and the
// CLI use this module, so they can never disagree about what the settings mean.

import path from 'node:path'

import { ConfigError } from './errors'
import { readIni, readList } from './ini'
import { displayPath, sharedConfigDir } from './paths'
import { field, validate, type Infer } from './schema'

const gatewaySchema = {
  inbound: {
    /** Addresses the inbound (Internet-facing) instance listens on. */
    listen: field.hostPortList({ default: [{ host: '127.0.0.1', port: 2525 }], env: 'GATEWAY_INBOUND_LISTEN', defaultPort: 25 }),
  },
  outbound: {
    /** Addresses the outbound (internal-facing relay) instance listens on. */
    listen: field.hostPortList({ default: [{ host: '127.0.0.1', port: 2587 }], env: 'GATEWAY_OUTBOUND_LISTEN', defaultPort: 587 }),
  },
  internal: {
    /** The internal mail server(s), tried in order: the first that answers gets the mail. */
    hosts: field.hostPortList({ env: 'GATEWAY_INTERNAL_HOSTS', defaultPort: 25 }),
  },
  redis: {
    url: field.string({ default: 'redis://127.0.0.1:6379', env: 'REDIS_URL', pattern: /^rediss?:\/\/[^\s]+$/, patternText: 'a redis:// or rediss:// URL' }),
    /** Every key the gateway writes starts with "<prefix>:"; several gateways can share one Redis. */
    prefix: field.string({ default: 'gw', env: 'GATEWAY_REDIS_PREFIX', pattern: /^[A-Za-z0-9_.-]{1,32}$/, patternText: 'letters, digits, _ . - (at most 32)' }),
    connect_timeout_ms: field.int({ default: 2000, min: 100, max: 60_000 }),
    /** How long daily counters are kept. */
    stats_ttl_days: field.int({ default: 400, min: 1, max: 3650 }),
  },
  dns: {
    /** Resolvers for MX lookups; empty means the system's (/etc/resolv.conf). */
    servers: field.hostPortList({ default: [], env: 'GATEWAY_DNS_SERVERS', defaultPort: 53 }),
  },
  demo: {
    /** Where `gateway start` runs the demo mailbox (a stand-in internal server); empty = none. */
    mailbox_listen: field.hostPortList({ default: [], defaultPort: 25 }),
    mailbox_dir: field.string({ default: 'var/mailbox' }),
  },
}

export type GatewaySettings = Infer<typeof gatewaySchema>

export interface GatewayConfig {
  readonly dir: string
  readonly settings: GatewaySettings
  /** Lower-case accepted domains. A Set: "constructor" or "__proto__" are just strings here. */
  readonly acceptedDomains: ReadonlySet<string>
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/

export function loadGatewayConfig(dir = sharedConfigDir()): GatewayConfig {
  const iniFile = path.join(dir, 'gateway.ini')
  const settings = validate(readIni(iniFile), iniFile, gatewaySchema)
  if (settings.internal.hosts.length === 0) {
    throw new ConfigError(displayPath(iniFile), '[internal] hosts', 'no internal mail server configured (set hosts[]= or GATEWAY_INTERNAL_HOSTS)')
  }
  const domainsFile = path.join(dir, 'accepted_domains')
  const acceptedDomains = new Set<string>()
  for (const { value, line } of readList(domainsFile)) {
    const domain = value.toLowerCase()
    if (!DOMAIN.test(domain)) throw new ConfigError(`${displayPath(domainsFile)}:${line}`, value, 'is not a domain name')
    acceptedDomains.add(domain)
  }
  if (acceptedDomains.size === 0) {
    throw new ConfigError(displayPath(domainsFile), '', 'lists no accepted domain: the inbound instance would refuse all mail')
  }
  return Object.freeze({ dir, settings, acceptedDomains })
}

let cached: GatewayConfig | undefined

/** The configuration of this process, loaded on first use. */
export function gatewayConfig(): GatewayConfig {
  cached ??= loadGatewayConfig()
  return cached
}
