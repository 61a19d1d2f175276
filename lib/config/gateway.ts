// The shared gateway configuration (config/gateway.ini and config/accepted_domains),
// read once per process and validated against one schema. Both instances and the
// CLI use this module, so they can never disagree about what the settings mean.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ConfigError } from './errors'
import { readIni, readList } from './ini'
import { deploymentPath, displayPath, sharedConfigDir } from './paths'
import { field, validate, type Field, type Infer } from './schema'
import { hostDomain } from '../address/domain'
import { formatHostPort, type HostPort } from '../net/address'
import { effectivePrefix, parseRedisUrl, usesTls } from '../redis/connection-options'
import { checkCertificate, checkKeyPair, firstLine } from '../redis/redis-files'

const DEMO_MAILBOX_ENV = 'GATEWAY_DEMO_MAILBOX'
const INTERNAL_HOSTS_ENV = 'GATEWAY_INTERNAL_HOSTS'
const DASHBOARD_LISTEN_ENV = 'GATEWAY_DASHBOARD_LISTEN'
const DASHBOARD_TOKEN_ENV = 'GATEWAY_DASHBOARD_TOKEN'
const LISTEN_ENV = { inbound: 'GATEWAY_INBOUND_LISTEN', outbound: 'GATEWAY_OUTBOUND_LISTEN' } as const

/** A Redis URL: one server, redis+sentinel:// or redis+cluster:// (lib/redis/connection-options.ts); messages never show its password. */
function redisUrlField(): Field<string> {
  return {
    parse: (raw) => {
      if (Array.isArray(raw)) throw new Error('takes one value, not a list (several sentinels or cluster nodes go in one URL, separated by commas)')
      parseRedisUrl(raw)
      return raw
    },
    fallback: () => 'redis://127.0.0.1:6379',
    env: 'REDIS_URL',
  }
}

/**
 * A file the Redis client reads (relative: under the deployment root), or empty:
 * the sentinels' password, a TLS certificate or key. Read at load (readable, then
 * `check` on its text, which no message ever repeats), read again by each client
 * (redis-files.ts); only the path is ever shown.
 */
function redisFileField(env: string, check: (text: string) => void): Field<string> {
  return {
    parse: (raw) => {
      if (Array.isArray(raw)) throw new Error('takes one value, not a list')
      if (raw === '') return ''
      const file = deploymentPath(raw)
      let text: string
      try {
        text = fs.readFileSync(file, 'utf8')
      } catch (err) {
        throw new Error(`cannot read ${displayPath(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
      try {
        check(text)
      } catch (err) {
        throw new Error(`${displayPath(file)} ${(err as Error).message}`)
      }
      return file
    },
    fallback: () => '',
    env,
  }
}

function checkSentinelPassword(text: string): void {
  if (firstLine(text) === '') throw new Error("is empty: its first line must be the sentinels' password")
}

function checkPrivateKey(pem: string): void {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new Error('holds no PEM private key (-----BEGIN PRIVATE KEY-----)')
}

/** A secret of 16 to 256 printable characters, or empty; a bad one is refused without repeating it (error lines end up in logs). */
function secretField(env: string): Field<string> {
  return {
    parse: (raw) => {
      if (Array.isArray(raw)) throw new Error('takes one value, not a list')
      if (raw !== '' && !/^[\x21-\x7e]{16,256}$/.test(raw)) throw new Error(`the value (${raw.length} characters, not shown) is not 16 to 256 printable characters without spaces`)
      return raw
    },
    fallback: () => '',
    env,
  }
}

const gatewaySchema = {
  node: {
    /** This gateway node's name in records, events and link state; nodes sharing one Redis need different names. */
    name: field.string({ default: os.hostname(), env: 'GATEWAY_NODE_NAME', pattern: /^[A-Za-z0-9_.-]{1,64}$/, patternText: 'letters, digits, _ . - (at most 64)' }),
  },
  inbound: {
    /** Addresses the inbound (Internet-facing) instance listens on. */
    listen: field.hostPortList({ default: [{ host: '127.0.0.1', port: 2525 }], env: LISTEN_ENV.inbound, defaultPort: 25 }),
  },
  outbound: {
    /** Addresses the outbound (internal-facing relay) instance listens on. */
    listen: field.hostPortList({ default: [{ host: '127.0.0.1', port: 2587 }], env: LISTEN_ENV.outbound, defaultPort: 587 }),
  },
  internal: {
    /** The internal mail server(s), tried in order: the first that answers gets the mail. */
    hosts: field.hostPortList({ env: INTERNAL_HOSTS_ENV, defaultPort: 25 }),
  },
  redis: {
    /** redis:// or rediss:// (one server), redis+sentinel://HOSTS/MASTER, redis+cluster://HOSTS (lib/redis/connection-options.ts). */
    url: redisUrlField(),
    /** The sentinels' own password (requirepass in sentinel.conf), in a file; empty = sentinels without a password. */
    sentinel_password_file: redisFileField('GATEWAY_REDIS_SENTINEL_PASSWORD_FILE', checkSentinelPassword),
    /** TLS URLs (rediss://, rediss+sentinel://, rediss+cluster://): the CA(s) that sign the servers' certificates; empty = the system's CAs. */
    tls_ca_file: redisFileField('GATEWAY_REDIS_TLS_CA_FILE', checkCertificate),
    /** A client certificate for servers that require one (tls-auth-clients), with its key below. */
    tls_cert_file: redisFileField('GATEWAY_REDIS_TLS_CERT_FILE', checkCertificate),
    tls_key_file: redisFileField('GATEWAY_REDIS_TLS_KEY_FILE', checkPrivateKey),
    /**
     * Every key the gateway writes starts with "<prefix>:"; several gateways can share one Redis.
     * With redis+cluster:// it becomes the hash tag "{<prefix>}" (withClusterPrefix).
     */
    prefix: field.string({ default: 'gw', env: 'GATEWAY_REDIS_PREFIX', pattern: /^[A-Za-z0-9_.-]{1,32}$/, patternText: 'letters, digits, _ . - (at most 32)' }),
    connect_timeout_ms: field.int({ default: 2000, min: 100, max: 60_000 }),
    /** How long daily counters are kept. */
    stats_ttl_days: field.int({ default: 400, min: 1, max: 3650 }),
  },
  stats: {
    /** How long per-minute counters (`gateway report`, ranges up to this long) are kept. */
    minute_ttl: field.duration({ default: 48 * 3600, min: 3600, max: 3650 * 86_400 }),
    /** How long per-hour counters are kept. */
    hour_ttl: field.duration({ default: 90 * 86_400, min: 86_400, max: 3650 * 86_400 }),
    /** How long per-day counters of each node are kept. */
    day_ttl: field.duration({ default: 730 * 86_400, min: 86_400, max: 3650 * 86_400 }),
    /** How often each instance process samples its delivery queue (depth, oldest message). */
    queue_sample_interval: field.duration({ default: 60, min: 1, max: 3600 }),
  },
  tracking: {
    /** How long a message's record (and its search indexes) stays in Redis. */
    record_ttl: field.duration({ default: 30 * 86_400, min: 1, max: 3650 * 86_400 }),
    /** Events kept in the tracking stream at most (older ones are trimmed first). */
    stream_max_events: field.int({ default: 1_000_000, min: 1, max: 1_000_000_000 }),
    /** Age after which events leave the tracking stream. */
    stream_max_age: field.duration({ default: 30 * 86_400, min: 1, max: 3650 * 86_400 }),
    /** Where each event is also written as one JSON line: a file path, "stdout", or "off". */
    event_log: field.string({ default: 'var/log/gateway-events.jsonl', env: 'GATEWAY_EVENT_LOG' }),
    /** Records, events and link updates kept in memory while Redis does not answer; beyond, the oldest are dropped and counted. */
    buffer_max_units: field.int({ default: 100_000, min: 0, max: 10_000_000 }),
  },
  org: {
    /** The signing keys of the X-Gateway-Org header (created owner-only on first start; copy it to every node). */
    key_file: field.string({ default: 'var/org-keys.json', env: 'GATEWAY_ORG_KEY_FILE' }),
    /** How long a key replaced by `gateway org-key rotate` still verifies. */
    key_grace: field.duration({ default: 7 * 86_400, min: 0, max: 365 * 86_400 }),
    /** Oldest X-Gateway-Org header outbound still trusts (a message forwarded later carries no trusted history). */
    max_age: field.duration({ default: 3 * 86_400, min: 1, max: 365 * 86_400 }),
  },
  launcher: {
    /** `gateway start`: restarts of one crashed instance allowed per minute before it gives up and stops the gateway; 0 = never restart. */
    restarts_per_minute: field.int({ default: 3, min: 0, max: 60, env: 'GATEWAY_RESTARTS_PER_MINUTE' }),
  },
  smtp: {
    /** Both instances' 220 greeting after "<me> ESMTP" (me: the instance's config/me, else the host name). */
    greeting: field.string({ default: 'ready', pattern: /^[\x20-\x7e]{1,200}$/, patternText: 'printable text (at most 200 characters)' }),
    /** The comment after "by <me>" in the Received header both instances add; empty = none (the software is not named). */
    received_product: field.string({ default: '', pattern: /^[\x20-\x27\x2a-\x7e]{0,100}$/, patternText: 'printable text without parentheses (at most 100 characters)' }),
  },
  links: {
    /** Seconds between checks that each internal mail server answers (inbound); 0 = only deliveries update its state. */
    probe_interval: field.duration({ default: 30, min: 0, max: 86_400 }),
  },
  dns: {
    /** Resolvers for MX lookups; empty means the system's (/etc/resolv.conf). */
    servers: field.hostPortList({ default: [], env: 'GATEWAY_DNS_SERVERS', defaultPort: 53 }),
    /** TXT answers (SPF, DKIM keys, DMARC) kept in each process for their TTL, at most this long (s); 0 = no cache. */
    txt_cache_max_ttl: field.duration({ default: 3600, min: 0, max: 86_400 }),
    /** NXDOMAIN / no-TXT answers kept for their SOA negative TTL, at most this long (s). */
    txt_cache_max_negative_ttl: field.duration({ default: 900, min: 0, max: 86_400 }),
    /** MX answers and the A/AAAA of the exchanges (the delivery queue's routes), kept the same way (s); 0 = no cache. */
    mx_cache_max_ttl: field.duration({ default: 3600, min: 0, max: 86_400 }),
    /** NXDOMAIN / no-record answers of those, at most this long (s). */
    mx_cache_max_negative_ttl: field.duration({ default: 900, min: 0, max: 86_400 }),
  },
  demo: {
    /**
     * Where `gateway start` runs the demo mailbox (a stand-in internal server); empty or off = none.
     * GATEWAY_DEMO_MAILBOX moves it (two gateways on one host) or turns it off; see followDemoMailbox.
     */
    mailbox_listen: field.hostPortOrOff({ default: null, env: DEMO_MAILBOX_ENV }),
    mailbox_dir: field.string({ default: 'var/mailbox' }),
  },
  dashboard: {
    /** Where the web dashboard listens (`gateway start`, `gateway dashboard`); off = none. Anything but loopback needs a token. */
    listen: field.hostPortOrOff({ default: { host: '127.0.0.1', port: 9180 }, env: DASHBOARD_LISTEN_ENV }),
    /** The secret a browser or script presents (Bearer, Basic password, or ?token= once); empty = none (loopback only). */
    token: secretField(DASHBOARD_TOKEN_ENV),
  },
}

export type GatewaySettings = Infer<typeof gatewaySchema>

export interface GatewayConfig {
  readonly dir: string
  readonly settings: GatewaySettings
  /** Lower-case accepted domains. A Set: "constructor" or "__proto__" are just strings here. */
  readonly acceptedDomains: ReadonlySet<string>
}

export function loadGatewayConfig(dir = sharedConfigDir()): GatewayConfig {
  const iniFile = path.join(dir, 'gateway.ini')
  const ini = readIni(iniFile)
  const settings = withClusterPrefix(followDemoMailbox(validate(ini, iniFile, gatewaySchema), demoMailboxInFile(ini.get('demo')?.get('mailbox_listen')?.value), iniFile))
  if (settings.internal.hosts.length === 0) {
    throw new ConfigError(displayPath(iniFile), '[internal] hosts', 'no internal mail server configured (set hosts[]= or GATEWAY_INTERNAL_HOSTS)')
  }
  checkDashboardExposure(settings, iniFile)
  checkRedisTls(settings, iniFile)
  const domainsFile = path.join(dir, 'accepted_domains')
  const acceptedDomains = new Set<string>()
  for (const { value, line } of readList(domainsFile)) {
    // written as mail carries it: "example.com." is refused, not silently corrected
    const domain = value.endsWith('.') ? undefined : hostDomain(value)
    if (domain === undefined) throw new ConfigError(`${displayPath(domainsFile)}:${line}`, value, 'is not a domain name')
    acceptedDomains.add(domain)
  }
  if (acceptedDomains.size === 0) {
    throw new ConfigError(displayPath(domainsFile), '', 'lists no accepted domain: the inbound instance would refuse all mail')
  }
  return Object.freeze({ dir, settings, acceptedDomains })
}

/**
 * On a Redis Cluster the key prefix is a hash tag, "{gw}": every gateway key lands
 * in one slot, so multi-key scripts (AUTH lockout), MULTI/EXEC (counter flushes,
 * tracking) and MGET work. The prefix is changed here, once, so the instances, the
 * CLI, the dashboard and the launcher's runtime file all use the same keys.
 */
function withClusterPrefix(settings: GatewaySettings): GatewaySettings {
  const prefix = effectivePrefix(settings.redis.prefix, settings.redis.url)
  if (prefix === settings.redis.prefix) return settings
  return Object.freeze({ ...settings, redis: Object.freeze({ ...settings.redis, prefix }) })
}

/** The demo mailbox address config/gateway.ini names, ignoring the environment (null: none, or not valid there). */
function demoMailboxInFile(raw: string | string[] | undefined): HostPort | null {
  if (raw === undefined) return null
  try {
    return gatewaySchema.demo.mailbox_listen.parse(raw)
  } catch {
    return null // only reachable when GATEWAY_DEMO_MAILBOX overrides it: the file's value does not matter then
  }
}

const sameAddress = (a: HostPort, b: HostPort) => a.host === b.host && a.port === b.port

/**
 * The shipped gateway.ini points [internal] hosts at the demo mailbox. When
 * GATEWAY_DEMO_MAILBOX moves the mailbox (a second gateway on the same host) and
 * GATEWAY_INTERNAL_HOSTS is not set, an internal host equal to the file's demo
 * address follows it: otherwise this gateway would deliver into the other
 * gateway's mailbox. Turning the mailbox off while the internal hosts still name
 * its address is refused: mail would go to whatever else listens there.
 */
function followDemoMailbox(settings: GatewaySettings, inFile: HostPort | null, iniFile: string): GatewaySettings {
  const now = settings.demo.mailbox_listen
  if (!inFile || process.env[INTERNAL_HOSTS_ENV] || (now && sameAddress(now, inFile))) return settings
  if (!settings.internal.hosts.some((h) => sameAddress(h, inFile))) return settings
  if (!now) {
    throw new ConfigError(
      `environment variable ${DEMO_MAILBOX_ENV}`,
      '',
      `"off" leaves [internal] hosts in ${displayPath(iniFile)} pointing at the demo mailbox address ${formatHostPort(inFile)}, where no demo mailbox would run: set ${INTERNAL_HOSTS_ENV} to your mail server`,
    )
  }
  const hosts = Object.freeze(settings.internal.hosts.map((h) => (sameAddress(h, inFile) ? now : h)))
  return Object.freeze({ ...settings, internal: Object.freeze({ ...settings.internal, hosts }) })
}

/** Where an instance's listen addresses come from, for messages: the variable that overrides the file, or the file and key. */
export function listenSetting(cfg: GatewayConfig, instance: keyof typeof LISTEN_ENV): string {
  const env = LISTEN_ENV[instance]
  return process.env[env] ? `environment variable ${env}` : `${displayPath(path.join(cfg.dir, 'gateway.ini'))} [${instance}] listen`
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)

/** A dashboard reachable from other hosts shows traffic and link state to anyone who finds it: it needs a token. */
function checkDashboardExposure(settings: GatewaySettings, iniFile: string): void {
  const { listen, token } = settings.dashboard
  if (!listen || isLoopback(listen.host) || token !== '') return
  const where = process.env[DASHBOARD_LISTEN_ENV] ? `environment variable ${DASHBOARD_LISTEN_ENV}` : displayPath(iniFile)
  const key = process.env[DASHBOARD_LISTEN_ENV] ? '' : '[dashboard] listen'
  throw new ConfigError(where, key, `${formatHostPort(listen)} is not a loopback address: set [dashboard] token (or ${DASHBOARD_TOKEN_ENV}) to a secret of 16 or more characters, or listen on 127.0.0.1`)
}

/**
 * TLS files only with a TLS URL (an operator who set a CA but wrote redis:// would
 * believe the connection encrypted), a certificate only with its key.
 */
function checkRedisTls(settings: GatewaySettings, iniFile: string): void {
  const r = settings.redis
  // named where the value came from: the environment variable overrides the file
  const fail = (key: string, env: string, problem: string): never => {
    throw process.env[env] ? new ConfigError(`environment variable ${env}`, '', problem) : new ConfigError(displayPath(iniFile), `[redis] ${key}`, problem)
  }
  const named = ['tls_ca_file', 'tls_cert_file', 'tls_key_file'].filter((k) => r[k as keyof typeof r] !== '')
  if (named.length > 0 && !usesTls(r.url)) {
    fail('url', 'REDIS_URL', `${named.join(', ')} ${named.length > 1 ? 'are' : 'is'} set, but the URL does not use TLS: write rediss://, rediss+sentinel:// or rediss+cluster://`)
  }
  if ((r.tls_cert_file === '') !== (r.tls_key_file === '')) {
    const [key, env] = r.tls_cert_file === '' ? ['tls_cert_file', 'GATEWAY_REDIS_TLS_CERT_FILE'] : ['tls_key_file', 'GATEWAY_REDIS_TLS_KEY_FILE']
    fail(key, env, 'a client certificate needs both tls_cert_file and tls_key_file')
  }
  if (r.tls_cert_file !== '') {
    try {
      checkKeyPair(fs.readFileSync(r.tls_cert_file, 'utf8'), fs.readFileSync(r.tls_key_file, 'utf8'))
    } catch (err) {
      fail('tls_key_file', 'GATEWAY_REDIS_TLS_KEY_FILE', `${displayPath(r.tls_key_file)} ${(err as Error).message}`)
    }
  }
}

/** Where the dashboard address comes from, for messages. */
export function dashboardListenSetting(cfg: GatewayConfig): string {
  return process.env[DASHBOARD_LISTEN_ENV] ? `environment variable ${DASHBOARD_LISTEN_ENV}` : `${displayPath(path.join(cfg.dir, 'gateway.ini'))} [dashboard] listen`
}

let cached: GatewayConfig | undefined

/** The configuration of this process, loaded on first use. */
export function gatewayConfig(): GatewayConfig {
  cached ??= loadGatewayConfig()
  return cached
}
