// The settings of gateway-submission-auth (outbound/config/gateway-submission-auth.ini),
// validated strictly: the fixed sections through the shared schema, and one
// [peer.<name>] section per pinned client certificate. A bad value, a malformed
// fingerprint, a fingerprint pinned twice or a peer without rights is a
// ConfigError naming the file, line, section and key.

import { ConfigError } from '../config/errors'
import { readIni, type IniFile } from '../config/ini'
import { displayPath } from '../config/paths'
import { field, validate } from '../config/schema'
import { normalizeFingerprint, PeerTable, type Peer } from './peers'
import { SenderScope, splitScope } from './sender-scope'

const schema = {
  main: {
    /** The credential file, relative to this instance's config folder. */
    users_file: field.string({ default: 'smtp-users' }),
    /** What each user may send as, relative to this instance's config folder. */
    scopes_file: field.string({ default: 'sender-scopes' }),
    /** Failed attempts after which the session is closed. */
    max_failures: field.int({ default: 3, min: 1, max: 100 }),
    /** Delay before answering a failed attempt, growing with each failure (ms). */
    failure_delay_ms: field.int({ default: 1000, min: 0, max: 30_000 }),
    /** How long a successful password check is remembered (no scrypt for the same password); 0 = never. */
    verified_cache_ttl: field.duration({ default: 120, min: 0, max: 3600 }),
  },
  sender: {
    /** MAIL FROM or header From outside the sender's scope: reject (550 5.7.1) or only record it. */
    action: field.oneOf(['reject', 'monitor'] as const, { default: 'reject' }),
  },
  lockout: {
    /** Failed AUTH attempts per client IP within the window at which AUTH is refused; 0 = off. */
    max_failures_per_ip: field.int({ default: 10, min: 0, max: 100_000 }),
    /** Failed AUTH attempts per user name (from any client) within the window; 0 = off. */
    max_failures_per_user: field.int({ default: 10, min: 0, max: 100_000 }),
    /** Counting window, started by the first failure; the lockout ends with it. */
    window_seconds: field.int({ default: 900, min: 1, max: 7 * 86_400 }),
  },
}

const peerSchema = {
  /** SHA-256 fingerprint of the client certificate (openssl x509 -noout -fingerprint -sha256). */
  fingerprint: field.string(),
  /** What the peer may send as: addresses, domains, *.domain, <> or *. */
  may_send: field.stringList(),
}

const PEER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export type SenderAction = 'reject' | 'monitor'

export interface SubmissionConfig {
  readonly usersFile: string
  readonly scopesFile: string
  readonly maxFailures: number
  readonly failureDelayMs: number
  readonly verifiedCacheSeconds: number
  readonly senderAction: SenderAction
  readonly lockout: { readonly maxPerIp: number; readonly maxPerUser: number; readonly windowSeconds: number }
  readonly peers: PeerTable
}

export function loadSubmissionConfig(file: string): SubmissionConfig {
  const ini = readIni(file)
  const fixed: IniFile = new Map()
  const peerSections: [string, IniFile][] = []
  for (const [section, keys] of ini) {
    if (section.startsWith('peer.')) peerSections.push([section, new Map([[section, keys]])])
    else if (/^peers?$/i.test(section)) throw new ConfigError(displayPath(file), `[${section}]`, 'a client certificate is a section named [peer.<name>]')
    else fixed.set(section, keys)
  }
  const cfg = validate(fixed, file, schema)

  const peers: Peer[] = []
  const seen = new Map<string, string>()
  for (const [section, one] of peerSections) {
    const peer = loadPeer(file, section, one)
    const twice = seen.get(peer.fingerprint)
    if (twice) throw new ConfigError(lineOf(file, one, section, 'fingerprint'), `[${section}] fingerprint`, `already pinned for [${twice}]`)
    seen.set(peer.fingerprint, section)
    peers.push(peer)
  }

  return {
    usersFile: cfg.main.users_file,
    scopesFile: cfg.main.scopes_file,
    maxFailures: cfg.main.max_failures,
    failureDelayMs: cfg.main.failure_delay_ms,
    verifiedCacheSeconds: cfg.main.verified_cache_ttl,
    senderAction: cfg.sender.action,
    lockout: { maxPerIp: cfg.lockout.max_failures_per_ip, maxPerUser: cfg.lockout.max_failures_per_user, windowSeconds: cfg.lockout.window_seconds },
    peers: new PeerTable(peers),
  }
}

function loadPeer(file: string, section: string, one: IniFile): Peer {
  const name = section.slice('peer.'.length)
  if (!PEER_NAME.test(name)) throw new ConfigError(lineOf(file, one, section, ''), `[${section}]`, 'a peer name has letters, digits, ".", "-" and "_" only (at most 64)')
  const p = validate(one, file, { [section]: peerSchema })[section]!
  const fingerprint = normalizeFingerprint(p.fingerprint)
  if (!fingerprint) {
    throw new ConfigError(lineOf(file, one, section, 'fingerprint'), `[${section}] fingerprint`, 'is not a SHA-256 fingerprint (64 hex digits, colons allowed)')
  }
  const entries = p.may_send.flatMap(splitScope)
  if (entries.length === 0) throw new ConfigError(lineOf(file, one, section, 'may_send'), `[${section}] may_send`, 'must name at least one address, domain, <> or *')
  let scope: SenderScope
  try {
    scope = new SenderScope(entries)
  } catch (err) {
    throw new ConfigError(lineOf(file, one, section, 'may_send'), `[${section}] may_send`, (err as Error).message)
  }
  return { name, fingerprint, scope }
}

function lineOf(file: string, one: IniFile, section: string, key: string): string {
  const keys = one.get(section)!
  const v = keys.get(key) ?? keys.values().next().value
  return v ? `${displayPath(file)}:${v.line}` : displayPath(file)
}

/**
 * Pinned client certificates only reach the plugin if Haraka asks for them and
 * does not refuse self-signed ones at the handshake (tls.ini [main]; Haraka's
 * defaults, requestCert=true and rejectUnauthorized=false, are right). `tlsMain`
 * is tls.ini's [main] as Haraka read it.
 */
export function checkTlsForPeers(tlsMain: Record<string, unknown> | undefined, tlsFile: string): void {
  const where = displayPath(tlsFile)
  const why = 'gateway-submission-auth.ini pins client certificates ([peer.*])'
  if (tlsMain?.requestCert === false) throw new ConfigError(where, '[main] requestCert', `must be true (the default): ${why}`)
  if (tlsMain?.rejectUnauthorized === true) {
    throw new ConfigError(where, '[main] rejectUnauthorized', `must be false (the default): pinned self-signed certificates, and clients without one, would fail the TLS handshake; ${why}`)
  }
  const required = tlsMain?.requireAuthorized
  if (Array.isArray(required) ? required.length > 0 : required !== undefined && required !== '') {
    throw new ConfigError(where, '[main] requireAuthorized', `must be empty: it refuses self-signed client certificates at the handshake; ${why}`)
  }
}
