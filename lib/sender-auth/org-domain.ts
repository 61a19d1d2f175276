// Domain names as DMARC compares them (normalized by lib/address/domain.ts first):
// reduced to their organizational domain with the Public Suffix
// List, and checked for relaxed or strict alignment (RFC 7489 section 3.1).

import { getDomain } from 'tldts'


// Private suffixes (github.io, ...) count too: two users of one hosting
// provider are different organizations (same choice as OpenDMARC and mailauth).
const PSL = { allowPrivateDomains: true, allowIcannDomains: true }

/**
 * The organizational domain: the public suffix plus one label. A name under a
 * suffix the list does not know gets the list's default rule ("*": the last
 * label is the suffix), so "mail.sender.test" -> "sender.test".
 */
export function organizationalDomain(domain: string): string {
  return getDomain(domain, PSL) ?? domain
}

export type AlignmentMode = 'relaxed' | 'strict'

/** Whether an authenticated identifier is aligned with the author (From) domain. Both normalized. */
export function isAligned(fromDomain: string, authDomain: string, mode: AlignmentMode): boolean {
  if (mode === 'strict') return fromDomain === authDomain
  return organizationalDomain(fromDomain) === organizationalDomain(authDomain)
}
