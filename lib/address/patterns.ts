// Sender patterns as administrators write them: an address (news@example.com),
// a domain (example.com: exactly that domain) or a wildcard (*.example.com: any
// subdomain, not the domain itself). Sets and suffix checks only, so a pattern
// list can never be confused by "constructor" or "__proto__". Entries and the
// addresses matched against them are compared in canonical form (lib/address/canonical.ts).

import { canonicalAddress, canonicalDomain, domainOf } from './canonical'

export { domainOf }

export class SenderPatterns {
  private readonly addresses = new Set<string>()
  private readonly domains = new Set<string>()
  private readonly suffixes: string[] = []

  constructor(readonly entries: readonly string[]) {
    for (const raw of entries) {
      const p = raw.trim().toLowerCase()
      if (p.startsWith('*.') && p.length > 2 && !p.includes('@')) this.suffixes.push(`.${canonicalDomain(p.slice(2))}`)
      else if (/^[^@\s]+@[^@\s]+$/.test(p)) this.addresses.add(canonicalAddress(p))
      else if (/^[^@\s*]+$/.test(p)) this.domains.add(canonicalDomain(p))
      else throw new Error(`"${raw}" is not an address, a domain or *.domain`)
    }
  }

  get size(): number {
    return this.entries.length
  }

  /** The pattern `address` matches, if any. */
  match(address: string): string | undefined {
    const addr = canonicalAddress(address)
    const domain = domainOf(addr)
    if (this.addresses.has(addr)) return addr
    if (this.domains.has(domain)) return domain
    const suffix = this.suffixes.find((s) => domain.endsWith(s))
    return suffix ? `*${suffix}` : undefined
  }
}
