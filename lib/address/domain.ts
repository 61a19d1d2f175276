// Domain names as the gateway takes them in, from a message, an envelope, a config
// list or a command line: one contract everywhere. The result is the canonical
// form every comparison uses (lower case, IDNA A-labels, no trailing dot;
// ./canonical.ts) and must also be a host name: LDH labels of 1-63 characters,
// two labels or more, 253 characters at most, a top-level label that is not all
// digits (so not an IP address). It is safe as a folder name and a DNS query.

import { canonicalDomain } from './canonical'

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** The domain name in canonical form, or undefined when `raw` is not one (nothing may be looked up or compared for it). */
export function hostDomain(raw: string): string | undefined {
  const ascii = canonicalDomain(raw)
  return HOST.test(ascii) ? ascii : undefined
}

/** hostDomain for operator input (config lists, CLI arguments): throws a plain message when `text` is not a domain name. */
export function parseDomainName(text: string): string {
  const d = hostDomain(text)
  if (d === undefined) throw new Error(`"${text}" is not a domain name`)
  return d
}
