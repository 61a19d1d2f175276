// Mail from a domain without a DKIM key is sent unsigned by design (dkim.ini),
// but haraka-plugin-dkim records that as an error result, which Haraka logs at
// ERROR for every such message ("no valid DKIM properties found"), and it has no
// setting to say "unsigned is fine". So the gateway decides first: when none of
// the domains the plugin could sign for (From, Sender, envelope sender) has a key
// folder, the message skips the plugin (Haraka's documented
// transaction.notes.skip_plugins) and the reason is logged at INFO. A domain WITH
// a key folder always reaches the plugin, so nothing that could be signed is
// left unsigned, and a broken key folder still reports its error there.

import fs from 'node:fs'
import path from 'node:path'

import { readIni } from '../config/ini'
import { domainOf } from '../address/canonical'
import { addressTokens, parseMailboxes } from '../address/authors'
import { KeyDirIndex } from './dkim-key-dirs'

/** haraka-plugin-dkim's name in config/plugins, and under which it records its results. */
export const DKIM_PLUGIN = 'dkim'

/** One index per instance config folder (one in a running instance; tests use several). */
const keyDirIndexes = new Map<string, KeyDirIndex>()

/** config/dkim/<domain> for `domain` or its closest parent with two labels or more (haraka-plugin-dkim's get_key_dir walk). */
export function keyDirFor(configDir: string, domain: string): string | undefined {
  let index = keyDirIndexes.get(configDir)
  if (!index) keyDirIndexes.set(configDir, (index = new KeyDirIndex(configDir)))
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.')
  for (let i = 0; i <= labels.length - 2; i++) {
    const dir = path.join(configDir, 'dkim', labels.slice(i).join('.'))
    if (index.has(dir)) return dir
  }
  return undefined
}

/** Stops the key-folder watches (tests that remove their config folders). */
export function closeKeyDirIndexes(): void {
  for (const index of keyDirIndexes.values()) index.close()
  keyDirIndexes.clear()
}

/** Domains with a key folder under config/dkim/, sorted (for the startup line). */
export function keyDomains(configDir: string): string[] {
  try {
    return fs
      .readdirSync(path.join(configDir, 'dkim'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
  } catch {
    return []
  }
}

/** dkim.ini [sign] domain + selector + config/dkim.private.key: the plugin then signs every message with that key. */
export function hasDefaultKey(configDir: string): boolean {
  const sign = readIni(path.join(configDir, 'dkim.ini')).get('sign')
  const set = (key: string) => {
    const v = sign?.get(key)?.value
    return typeof v === 'string' && v.trim() !== ''
  }
  return set('domain') && set('selector') && fs.existsSync(path.join(configDir, 'dkim.private.key'))
}

export interface SignableMessage {
  /** Raw From and Sender header field values. */
  readonly from: readonly string[]
  readonly sender: readonly string[]
  /** Envelope sender's domain, empty for the null sender. */
  readonly envelopeDomain: string
}

/** Every domain haraka-plugin-dkim might pick to sign `m` with (it picks one of these, or none). */
export function candidateDomains(m: SignableMessage): string[] {
  const out = new Set<string>()
  for (const field of [...m.from, ...m.sender]) {
    const value = field.replace(/\r?\n/g, '')
    const parsed = parseMailboxes(value)
    for (const address of parsed.ok ? parsed.addresses : addressTokens(value)) {
      const d = domainOf(address).toLowerCase()
      if (d) out.add(d)
    }
  }
  if (m.envelopeDomain) out.add(m.envelopeDomain.toLowerCase())
  return [...out]
}

/**
 * Why `m` cannot be signed (no key for any of its domains), or undefined when the
 * plugin may sign it. Key folders are known from memory, kept current by a watch of
 * config/dkim/ (dkim-key-dirs.ts): `gateway dkim keygen` takes effect without a
 * restart, as it does for the plugin.
 */
export function unsignedReason(configDir: string, m: SignableMessage): string | undefined {
  const domains = candidateDomains(m)
  if (domains.some((d) => keyDirFor(configDir, d))) return undefined
  return domains.length ? `no DKIM key for ${domains.join(', ')}` : 'no sender domain to sign for'
}
