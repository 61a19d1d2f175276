// gateway-routing (both instances): where queued mail goes. Mail for an accepted
// domain goes to the internal mail servers, in the configured order (the next one
// is tried when one does not answer); that keeps internal mail internal even when
// it is relayed by the outbound instance. Everything else is delivered by MX from
// the configured source address and HELO name, so the operator, not the IP stack,
// decides which identity the Internet sees.

import dns from 'node:dns'
import net from 'node:net'

import type * as NetUtils from 'haraka-net-utils'

import { ConfigError } from '../../lib/config/errors'
import { readIni } from '../../lib/config/ini'
import { displayPath } from '../../lib/config/paths'
import { field, validate } from '../../lib/config/schema'
import { isLocalAddress } from '../../lib/net/address'
import { canonicalDomain } from '../../lib/address/canonical'
import { definePlugin } from '../../lib/plugin/define'
import { acceptAndStop, reject, tempfail, type Verdict } from '../../lib/plugin/verdict'

const schema = {
  internet: {
    /** Source IP for connections to Internet MX hosts; empty lets the OS choose. */
    source_ip: field.string({ default: '' }),
    /** Name sent in EHLO to Internet MX hosts; empty uses the instance's `me`. */
    helo: field.string({ default: '', pattern: /^[A-Za-z0-9.-]*$/, patternText: 'a host name' }),
  },
}

/** The settings; a source IP must be an address of this host. */
function loadSettings(file: string) {
  const { internet } = validate(readIni(file), file, schema)
  if (internet.source_ip && (!net.isIP(internet.source_ip) || !isLocalAddress(internet.source_ip))) {
    throw new ConfigError(displayPath(file), '[internet] source_ip', `${internet.source_ip} is not an address of this host`)
  }
  return internet
}

export = definePlugin({
  name: 'gateway-routing',
  instances: ['inbound', 'outbound'],
  hooks: ['get_mx'],
  config: loadSettings,
  // its answer (the internal servers, or the MX hosts with the configured identity) is final
  order: { endsChain: ['get_mx'] },
  setup({ config: internet, gateway }) {
    const { settings, acceptedDomains } = gateway
    const internalMx = settings.internal.hosts.map((h, i) => ({ exchange: h.host, port: h.port, priority: i }))
    const identity = {
      ...(internet.source_ip ? { bind: internet.source_ip } : {}),
      ...(internet.helo ? { bind_helo: internet.helo } : {}),
    }
    const customIdentity = Object.keys(identity).length > 0

    return {
      hooks: {
        // synchronous for the internal servers (every inbound delivery): no promise, no deadline timer
        get_mx(_hmail, domain): Verdict | Promise<Verdict> | undefined {
          if (acceptedDomains.has(canonicalDomain(domain))) return acceptAndStop(internalMx)
          if (!customIdentity) return undefined // Haraka's own MX lookup
          return lookupMx(domain, identity)
        },
      },
    }
  },
})

// Loaded on first use, not with the module: `gateway check-config` loads this module
// for its declaration, and haraka-net-utils starts loading TLD lists (and logging) at once.
let netUtils: typeof NetUtils | undefined

async function lookupMx(domain: string, identity: Partial<Haraka.Mx>): Promise<Verdict> {
  netUtils ??= require('haraka-net-utils') as typeof NetUtils
  try {
    const mxs = await netUtils.get_mx(domain)
    if (mxs.length === 0) return reject(550, '5.1.2', `No mail exchanger for ${domain}`)
    const byPreference = [...mxs].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0))
    return acceptAndStop(byPreference.map((mx) => Object.assign(mx, identity)))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === dns.NOTFOUND || code === 'ENOTFOUND') return reject(550, '5.1.2', `No such domain: ${domain}`)
    return tempfail(451, '4.4.3', `DNS lookup failure for ${domain}`)
  }
}
