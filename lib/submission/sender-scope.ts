// What an authenticated relay client (a user or a certificate peer) may send as,
// checked on MAIL FROM and on the header From: a stolen application password
// must not let anyone send mail as the CEO. Scopes are written as administrators
// think of them: an address, a domain, *.domain, "<>" (the null sender) or "*".

import { SenderPatterns } from '../address/patterns'

/** The scope entry that allows the null sender (bounces, MAIL FROM:<>). */
export const NULL_SENDER = '<>'
/** The scope entry that allows any sender (an unrestricted relay: use sparingly). */
export const ANY_SENDER = '*'

const LABELS = '[a-z0-9_-]+(?:\\.[a-z0-9_-]+)*'
const DOMAIN = new RegExp(`^(?:\\*\\.)?${LABELS}$`)
// no "*" in the local part: "*@example.com" would read as "the whole domain" but match one odd address
const ADDRESS = new RegExp(`^[^@\\s<>,;"()\\[\\]*]+@${LABELS}$`)

/** Splits "example.com, app@example.org <>" (commas and/or blanks) into entries. */
export function splitScope(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean)
}

export class SenderScope {
  readonly entries: readonly string[]
  private readonly patterns: SenderPatterns
  private readonly any: boolean
  private readonly nullSender: boolean

  /** Throws a plain Error naming the first entry that is not a valid scope. */
  constructor(entries: readonly string[]) {
    const normalized = entries.map((e) => e.trim().toLowerCase())
    const patterns: string[] = []
    for (const e of normalized) {
      if (e === NULL_SENDER || e === ANY_SENDER) continue
      if (!ADDRESS.test(e) && !DOMAIN.test(e)) throw new Error(`"${e}" is not an address, a domain, *.domain, <> or *`)
      patterns.push(e)
    }
    this.entries = Object.freeze([...new Set(normalized)])
    this.patterns = new SenderPatterns(patterns)
    this.any = normalized.includes(ANY_SENDER)
    // A server account (one allowed a whole domain) relays its own bounces, whose
    // envelope sender is empty; an application account only when granted "<>".
    this.nullSender = this.any || normalized.includes(NULL_SENDER) || patterns.some((p) => !p.includes('@'))
  }

  /** Whether mail may be sent as `address` ("" is the null sender). */
  allows(address: string): boolean {
    if (this.any) return true
    if (address === '') return this.nullSender
    return this.patterns.match(address) !== undefined
  }

  toString(): string {
    return this.entries.length ? this.entries.join(', ') : '(nothing)'
  }
}

/**
 * The scope of a user without one configured: a user named like an address
 * (app@example.com) sends as that address only; any other name (a mail server
 * account such as "exchange") as anyone in the accepted domains, never as a
 * foreign domain. Configure a scope for every account; this is the safety net.
 */
export function defaultScope(user: string, acceptedDomains: Iterable<string>): SenderScope {
  if (namesAnAddress(user)) return new SenderScope([user])
  return new SenderScope([...acceptedDomains])
}

/** Whether a user name is an e-mail address (and so, by default, may send as that address only). */
export function namesAnAddress(user: string): boolean {
  return ADDRESS.test(user.toLowerCase())
}
