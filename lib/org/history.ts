// What outbound makes of a verified X-Gateway-Org header: the message's inbound
// history (VerifiedOrgHistory) and the findings of the outbound history policy
// (gateway-org-verify): the message had been classed by inbound as carrying a
// virus, as spam, or as failing DMARC, and an internal server now sends it out
// (forwarded, redirected, auto-replied with the original attached inline).

import type { OrgFields } from './header'
import type { VerifiedOrgHistory } from './verified'

export type HistoryFinding = 'virus' | 'spam' | 'dmarc_fail'
export const HISTORY_FINDINGS: readonly HistoryFinding[] = ['virus', 'spam', 'dmarc_fail']

/** The history kept on the transaction for other plugins (gateway-track links the records through it). */
export function historyOf(f: OrgFields): VerifiedOrgHistory {
  const checks: Record<string, string> = Object.create(null)
  for (const d of f.checks) {
    const entry = `${d.result}:${d.action}`
    checks[d.check] = Object.hasOwn(checks, d.check) ? `${checks[d.check]},${entry}` : entry
  }
  const auth: Partial<Record<'spf' | 'dkim' | 'dmarc', string>> = Object.create(null)
  for (const a of f.auth) auth[a.method] = a.result
  return Object.freeze({
    recordId: f.id,
    node: f.node,
    time: f.t * 1000,
    keyId: f.kid,
    scl: f.scl,
    checks: Object.freeze(checks),
    decisions: Object.freeze(f.checks.map((d) => Object.freeze({ ...d }))),
    auth: Object.freeze(auth),
  })
}

const VIRUS_CHECKS: ReadonlySet<string> = new Set(['virus', 'antivirus'])
/** Results of the virus check that are not a virus. */
const NOT_A_VIRUS: ReadonlySet<string> = new Set(['clean', 'unscanned'])
/** What the spam check's action says about the message when the SCL alone would not. */
const SPAM_ACTIONS: ReadonlySet<string> = new Set(['reject', 'quarantine', 'tag'])

/**
 * The findings, in policy order (virus, spam, dmarc_fail), each with a reason for the log:
 * - virus: inbound's virus check found something (any result but clean/unscanned);
 * - spam: SCL at or over `spamScl`, or the spam check tagged, quarantined or refused it;
 * - dmarc_fail: the DMARC check failed (its decision, or the auth=dmarc result).
 */
export function historyFindings(h: VerifiedOrgHistory, spamScl: number): { finding: HistoryFinding; detail: string }[] {
  const out: { finding: HistoryFinding; detail: string }[] = []
  const virus = h.decisions.find((d) => VIRUS_CHECKS.has(d.check) && !NOT_A_VIRUS.has(d.result))
  if (virus) out.push({ finding: 'virus', detail: `${virus.check}=${virus.result} (${virus.action})` })
  const spamDecision = h.decisions.find((d) => d.check === 'spam' && SPAM_ACTIONS.has(d.action))
  if (h.scl !== null && h.scl >= spamScl) out.push({ finding: 'spam', detail: `SCL ${h.scl} (threshold ${spamScl})` })
  else if (spamDecision) out.push({ finding: 'spam', detail: `spam=${spamDecision.result} (${spamDecision.action})` })
  const dmarc = h.decisions.find((d) => d.check === 'dmarc' && d.result.startsWith('fail'))
  if (dmarc) out.push({ finding: 'dmarc_fail', detail: `dmarc=${dmarc.result} (${dmarc.action})` })
  else if (h.auth.dmarc === 'fail') out.push({ finding: 'dmarc_fail', detail: 'dmarc=fail' })
  return out
}
