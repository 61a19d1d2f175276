// Reading Received trace fields (RFC 5321 4.4) well enough to tell the hops made
// inside the organisation from the hop where a message came in from the Internet:
// the addresses in a field's "from" clause say who connected.

import net from 'node:net'

/**
 * The IP addresses in the "from" clause of a Received field value (the part
 * before the first "by" outside a comment), or null when the field has no
 * "from" clause (e.g. "by host with HTTP", "(qmail 123 invoked by uid 89)").
 * Reads the usual forms: "(host [10.0.0.5])", "(10.0.0.5)", "[IPv6:2001:db8::1]",
 * Exim's "[10.0.0.5]:51234", zone ids ("fe80::1%12").
 */
export function fromClauseAddresses(value: string): string[] | null {
  const s = value.replace(/\r?\n[ \t]*/g, ' ').trim()
  if (!/^from\s/i.test(s)) return null
  return addressesIn(fromClause(s))
}

/** The text between "from" and the first top-level "by" (or ";", or the end). */
function fromClause(s: string): string {
  let depth = 0
  for (let i = 4; i < s.length; i++) {
    const ch = s[i]!
    if (ch === '\\') i++
    else if (ch === '(') depth++
    else if (ch === ')') depth = Math.max(0, depth - 1)
    else if (depth === 0 && ch === ';') return s.slice(4, i)
    else if (depth === 0 && /\s/.test(ch) && /^\sby\s/i.test(s.slice(i, i + 4))) return s.slice(4, i)
  }
  return s.slice(4)
}

function addressesIn(text: string): string[] {
  const out: string[] = []
  for (let token of text.split(/[\s()[\];,=<>"]+/)) {
    token = token.replace(/^ipv6:/i, '').replace(/%[\w.-]+$/, '')
    const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(token)
    if (v4WithPort) token = v4WithPort[1]!
    if (net.isIP(token)) out.push(token)
  }
  return out
}

/**
 * A hop made inside: its "from" clause names at least one address and every one
 * is internal, or it has no "from" clause at all (the stamp of a local or web
 * submission). A "from" clause without any address proves nothing, so it counts
 * as outside: stripping stops there and the trace below it is kept.
 */
export function isInternalHop(value: string, isInternal: (ip: string) => boolean): boolean {
  const ips = fromClauseAddresses(value)
  if (ips === null) return true
  return ips.length > 0 && ips.every(isInternal)
}
