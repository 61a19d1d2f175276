// The author domains of a message: the domains of every address in its From
// header field(s), the identity DMARC protects (RFC 7489 3.1).

import { addressTokens, parseMailboxes } from '../address/authors'
import { domainOf } from '../address/patterns'
import { hostDomain } from '../address/domain'

/**
 * Distinct normalized domains of all From addresses; empty when there is none.
 * A From field the RFC 5322 parser refuses still counts through every
 * address-like token in it: a mail reader still shows such a From, so a syntax
 * error must not switch DMARC off.
 */
export function authorDomains(fromFields: readonly string[]): string[] {
  const out = new Set<string>()
  for (const field of fromFields) {
    const value = field.replace(/\r?\n/g, '')
    const parsed = parseMailboxes(value)
    for (const address of parsed.ok ? parsed.addresses : addressTokens(value)) {
      const d = hostDomain(domainOf(address))
      if (d) out.add(d)
    }
  }
  return [...out]
}
