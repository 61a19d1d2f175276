// What inbound writes into X-Gateway-Org about a message it accepted: its
// checks' decisions (lib/policy/marks.ts), the spam confidence level, and the
// SPF/DKIM/DMARC results, read from what the checks left on the connection.

import { decisionsOf, type Decision } from '../policy/marks'
import { authSummary, type AuthSummary } from '../sender-auth/results'
import { encodeToken, MAX_CHECKS, type OrgAuth, type OrgDecision } from './header'

const SPAM_CHECK = 'spam'
const SCL_RESULT = /^scl_([0-9])$/

/** SCL from the spam check's decision, else from X-Gateway-SCL (only gateway-spam writes it on inbound); null if not scanned. */
export function sclOf(decisions: readonly Decision[], sclHeader: string): number | null {
  for (const d of decisions) {
    const m = d.check === SPAM_CHECK ? SCL_RESULT.exec(d.result) : null
    if (m) return Number(m[1])
  }
  const h = sclHeader.trim()
  return /^[0-9]$/.test(h) ? Number(h) : null
}

/** One result per method: DKIM passes if any signature passes, else the first signature's result. */
export function authOf(summary: AuthSummary): OrgAuth[] {
  const out: OrgAuth[] = []
  if (summary.spf) out.push({ method: 'spf', result: summary.spf.result })
  if (summary.dkim.length > 0) out.push({ method: 'dkim', result: summary.dkim.some((s) => s.result === 'pass') ? 'pass' : summary.dkim[0]!.result })
  if (summary.dmarc) out.push({ method: 'dmarc', result: summary.dmarc.result })
  return out
}

/**
 * Room for the checks list in one header line: the other fields take at most
 * ~350 characters, and a line must stay under SMTP's 998 (the header is never
 * folded inside a list, so every relay and rule engine sees it whole).
 */
export const CHECKS_BUDGET = 600
const TOKEN_BUDGET = 100

/** A value the header can always carry: never empty, at most TOKEN_BUDGET characters once encoded. */
function fit(s: string): string {
  let out = s === '' ? '-' : s
  while (encodeToken(out).length > TOKEN_BUDGET) out = [...out].slice(0, -1).join('')
  return out
}

/** The decisions as the header carries them, in order, as many as fit CHECKS_BUDGET (and MAX_CHECKS). */
export function checksOf(decisions: readonly Decision[]): OrgDecision[] {
  const out: OrgDecision[] = []
  let used = 0
  for (const d of decisions) {
    const entry = { check: fit(d.check), result: fit(d.result), action: fit(d.action) }
    const length = [entry.check, entry.result, entry.action].map(encodeToken).join(':').length + (out.length > 0 ? 1 : 0)
    if (out.length >= MAX_CHECKS || used + length > CHECKS_BUDGET) break
    out.push(entry)
    used += length
  }
  return out
}

export interface StampInput {
  readonly scl: number | null
  readonly auth: OrgAuth[]
  readonly checks: OrgDecision[]
  /** Decisions left out for lack of room (logged; X-Gateway-Checks still lists them all). */
  readonly omitted: number
}

/** Everything inbound knows about the connection's current message, for the header. */
export function stampInput(c: Haraka.Connection, txn: Haraka.Transaction): StampInput {
  const decisions = decisionsOf(c)
  const checks = checksOf(decisions)
  return { scl: sclOf(decisions, txn.header.get('X-Gateway-SCL')), auth: authOf(authSummary(c)), checks, omitted: decisions.length - checks.length }
}
