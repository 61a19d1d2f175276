// Addresses in the one form every policy comparison uses, so that spellings a
// mail server treats as the same mailbox cannot slip past a list written in
// another: "ceo"@example.com is ceo@example.com (RFC 5321 4.1.2: quoting that
// changes nothing), CEO@Example.COM is ceo@example.com, and ceo@bücher.example
// is ceo@xn--bcher-kva.example (the form config/accepted_domains holds).

import { domainToASCII } from 'node:url'

import { memoize } from '../cache/memo'

// What may go into domainToASCII: letters (any script), digits, marks, dots and
// hyphens. It parses URL syntax otherwise: "evil.test/x" would come out as "evil.test".
const LABEL_CHARS = /^[\p{L}\p{M}\p{N}.-]+$/u

/**
 * Lower case, IDNA A-labels, no trailing dot. Anything else stays lower-cased as given (and matches nothing).
 * Remembered: a message asks for the same few domains a dozen times (routing, recipients, sender
 * filter, DMARC, tracking indexes), and the Unicode-aware test and IDNA conversion cost more than a lookup.
 */
export const canonicalDomain: (domain: string) => string = memoize(toCanonicalDomain, 4096)

function toCanonicalDomain(domain: string): string {
  const lower = domain.trim().toLowerCase().replace(/\.$/, '')
  if (!LABEL_CHARS.test(lower)) return lower
  return domainToASCII(lower) || lower
}

/** The local part without quoting and backslash escapes, lower-cased. */
export function canonicalLocalPart(local: string): string {
  let out = local
  if (out.length >= 2 && out.startsWith('"') && out.endsWith('"')) out = out.slice(1, -1).replace(/\\(.)/g, '$1')
  return out.toLowerCase()
}

/** The canonical mailbox for comparisons (not for delivery: the original spelling is what is relayed). */
export function canonicalAddress(address: string): string {
  const at = address.lastIndexOf('@')
  if (at < 0) return canonicalLocalPart(address)
  return `${canonicalLocalPart(address.slice(0, at))}@${canonicalDomain(address.slice(at + 1))}`
}

/** The (canonical) domain of an address. */
export function domainOf(address: string): string {
  return canonicalDomain(address.slice(address.lastIndexOf('@') + 1))
}

/**
 * Local parts that ask the receiving server to route further (percent hack
 * "a%b@c", UUCP bang paths "b!a@c"): a gateway must not let them turn one
 * accepted mailbox into a way to reach another.
 */
export function hasRoutingSyntax(address: string): boolean {
  const local = canonicalLocalPart(address.slice(0, address.lastIndexOf('@')))
  return /[%!@]/.test(local)
}
