// gateway-tls-policy (outbound): recipient domains whose mail must travel over
// verified TLS. Haraka already has the enforcement (its forced-TLS path in
// outbound/hmail.js: STARTTLS or no delivery, certificate verified, temp-fail
// otherwise); it is switched on by host or domain name in tls.ini's
// force_tls_hosts, compared case-sensitively, and its verification cannot be
// given a CA file. This plugin feeds it one clear, validated list (matched
// case-insensitively) and an optional CA bundle trusted besides the system's.

import fs from 'node:fs'
import path from 'node:path'

import { ConfigError } from '../../lib/config/errors'
import { readIni } from '../../lib/config/ini'
import { displayPath } from '../../lib/config/paths'
import { field, validate } from '../../lib/config/schema'
import { requireTlsWhen, trustForOutboundTls } from '../../lib/haraka'
import { parseDomainName } from '../../lib/address/domain'
import { definePlugin } from '../../lib/plugin/define'
import { parsePemBundle, TlsPolicy, trustStore } from '../../lib/tls/outbound-policy'

const schema = {
  require: {
    /** Recipient domains that get mail only over TLS with a verified certificate. */
    domains: field.listOf((items) => items.map(parseDomainName)),
    /** PEM bundle of CAs trusted for those domains besides the system's (relative to this config folder). */
    ca_file: field.string({ default: '' }),
  },
}

/** The settings, with the CA bundle read (relative to the config folder) and checked. */
function loadSettings(file: string) {
  const cfg = validate(readIni(file), file, schema).require
  let ca: string[] | undefined
  if (cfg.ca_file) {
    const bundle = path.resolve(path.dirname(file), cfg.ca_file)
    try {
      ca = trustStore(parsePemBundle(fs.readFileSync(bundle, 'utf8')))
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${displayPath(bundle)} does not exist` : (err as Error).message
      throw new ConfigError(displayPath(file), '[require] ca_file', why)
    }
  }
  return { ...cfg, ca }
}

export = definePlugin({
  name: 'gateway-tls-policy',
  instances: ['outbound'],
  hooks: [],
  config: loadSettings,
  setup({ plugin, config: cfg }) {
    const policy = new TlsPolicy(cfg.domains)
    const ca = cfg.ca
    if (policy.domains.length === 0) return { hooks: {} } // nothing required: Haraka's opportunistic TLS as is

    // Haraka's forced-TLS path, switched on by this list (lib/haraka/hmail.ts: no hook or config can)
    requireTlsWhen(plugin, (hmail) => {
      if (!policy.requiresTls(hmail.todo.domain)) return false
      hmail.loginfo(plugin, `TLS required for ${hmail.todo.domain}: STARTTLS with a verified certificate or no delivery`)
      return true
    })
    if (ca) trustForOutboundTls(plugin, ca)
    plugin.loginfo(`TLS required (verified) for: ${policy.domains.join(' ')}${cfg.ca_file ? `; extra CAs from ${cfg.ca_file}` : ''}`)
    return { hooks: {} }
  },
})
