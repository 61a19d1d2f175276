// Domain names as DMARC compares them: normalized (lower case, A-labels, no
// trailing dot), reduced to their organizational domain with the Public Suffix
// List, and checked for relaxed or strict alignment (RFC 7489 section 3.1).

import { getDomain } from 'tldts'

import { canonicalDomain } from '../mail/canonical'

// Private suffixes (github.io, ...) count too: two users of one hosting
// provider are different organizations (same choice as OpenDMARC and mailauth).
const PSL = { allowPrivateDomains: true, allowIcannDomains: true }

// An LDH host name of at least two labels, each 1-63 characters, 253 at most,
// with a top-level label that is not all digits (so not an IP address).
const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/**
 * The DNS form of a domain taken from a message or envelope, or undefined when
 * it is not a usable host name (nothing may be looked up or compared for it).
 */
export function normalizeDomain(raw: string): string | undefined {
  const ascii = canonicalDomain(raw)
  return HOST.test(ascii) ? ascii : undefined
}

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
