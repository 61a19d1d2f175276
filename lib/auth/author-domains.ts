// The author domains of a message: the domains of every address in its From
// header field(s), the identity DMARC protects (RFC 7489 3.1).

import { normalizeDomain } from './org-domain'

// Haraka's own RFC 5322 address parser. Its typings describe the ES module
// build, which a CommonJS file cannot import, so the CommonJS build is required.
interface Parsed {
  host?: string
  addresses?: { host: string }[]
}
const { parseFrom } = require('@haraka/email-address') as { parseFrom(field: string): Parsed[] }

// Fallback for From fields the strict parser refuses: the domain of each
// <angle-addr>, or of bare addresses when there is none. A mail reader still
// shows such a From, so a syntax error must not switch DMARC off.
const ANGLE_ADDR = /<[^<>@\s]*@([^<>\s]+)>/g
const BARE_ADDR = /[^\s<>,;:"()@]+@([A-Za-z0-9.-]+)/g

/** Distinct normalized domains of all From addresses; empty when there is none. */
export function authorDomains(fromFields: readonly string[]): string[] {
  const out = new Set<string>()
  for (const field of fromFields) {
    for (const raw of domainsOf(field.replace(/\r?\n/g, ''))) {
      const d = normalizeDomain(raw)
      if (d) out.add(d)
    }
  }
  return [...out]
}

function domainsOf(field: string): string[] {
  try {
    return parseFrom(field).flatMap((a) => (a.addresses ? a.addresses.map((m) => m.host) : a.host ? [a.host] : []))
  } catch {
    const angle = [...field.matchAll(ANGLE_ADDR)].map((m) => m[1]!)
    return angle.length > 0 ? angle : [...field.matchAll(BARE_ADDR)].map((m) => m[1]!)
  }
}
