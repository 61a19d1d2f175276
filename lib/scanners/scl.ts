// The spam confidence level (SCL, 0-9) of a scanned message, and which of the
// operator's SCL thresholds it reaches. The SCL is the gateway's one spam
// number: it travels with the message (X-Gateway-SCL) and drives the action, so
// neither operators nor internal servers need to know rspamd's score scale.

import type { CheckResult } from './rspamd-result'

/**
 * How rspamd's verdict becomes an SCL.
 *
 * rspamd scores are open-ended sums whose meaning depends on its configured
 * thresholds, so the score is read relative to `required_score` (rspamd's
 * reject threshold, 15 by default) as a ratio r = score / required_score:
 *
 *   SCL 0   score <= 0                      clean: nothing spammy, or ham evidence
 *   SCL 1   r < 0.10   (default: < 1.5)     clean
 *   SCL 2   r < 0.20   (< 3)                clean
 *   SCL 3   r < 0.30   (< 4.5; rspamd greylists from 4)
 *   SCL 4   r < 0.40   (< 6)                suspicious
 *   SCL 5   r < 0.50   (< 7.5; rspamd's "add header" starts at 6 = r 0.40)
 *   SCL 6   r < 0.60   (< 9)                likely spam
 *   SCL 7   r < 0.80   (< 12)               very likely spam
 *   SCL 8   r < 1.00   (< 15)               almost certainly spam
 *   SCL 9   r >= 1, or rspamd's action is "reject" (GTUBE included), or the
 *           GTUBE symbol matched: rspamd itself would refuse it
 *
 * rspamd's own action sets a floor, so the SCL never contradicts rspamd's
 * verdict with custom thresholds: "add header" / "rewrite subject" is at least
 * SCL 5, "reject" is 9. "greylist" and "soft reject" set no floor: they mean
 * "try later" (greylisting, rate limits), not "this is spam".
 * With rspamd's default thresholds, [scl] tag=5 therefore tags what rspamd
 * would mark as spam, and reject=9 refuses what rspamd would refuse.
 */
const UPPER_BOUNDS: readonly [scl: number, below: number][] = [
  [1, 0.1],
  [2, 0.2],
  [3, 0.3],
  [4, 0.4],
  [5, 0.5],
  [6, 0.6],
  [7, 0.8],
  [8, 1.0],
]

/** rspamd's default reject threshold, used if an installation reports none. */
const DEFAULT_REQUIRED_SCORE = 15

export function sclOf(r: CheckResult): number {
  if (r.action === 'reject' || r.symbols.includes('GTUBE')) return 9
  const floor = r.action === 'add header' || r.action === 'rewrite subject' ? 5 : 0
  return Math.max(floor, sclOfScore(r.score, r.requiredScore))
}

function sclOfScore(score: number, requiredScore: number): number {
  if (score <= 0) return 0
  const ratio = score / (requiredScore > 0 ? requiredScore : DEFAULT_REQUIRED_SCORE)
  for (const [scl, below] of UPPER_BOUNDS) if (ratio < below) return scl
  return 9
}

/** The operator's thresholds ([scl] in gateway-spam.ini); 0 turns one off. */
export interface SclThresholds {
  readonly reject: number
  readonly quarantine: number
  readonly tag: number
}

export type SpamOutcome = 'reject' | 'quarantine' | 'tag' | 'accept'

/** The most severe outcome whose threshold the SCL reaches ("accept" below all of them). */
export function outcomeFor(scl: number, t: SclThresholds): SpamOutcome {
  if (t.reject > 0 && scl >= t.reject) return 'reject'
  if (t.quarantine > 0 && scl >= t.quarantine) return 'quarantine'
  if (t.tag > 0 && scl >= t.tag) return 'tag'
  return 'accept'
}

/**
 * Thresholds must rise with severity (tag < quarantine < reject, ignoring the
 * ones turned off); otherwise a milder action could never happen, which is
 * always a configuration mistake. Returns the offending key and why, if any.
 */
export function thresholdProblem(t: SclThresholds): { key: keyof SclThresholds; problem: string } | undefined {
  const order: (keyof SclThresholds)[] = ['tag', 'quarantine', 'reject']
  const on = order.filter((k) => t[k] > 0)
  for (let i = 1; i < on.length; i++) {
    const lower = on[i - 1]!
    const key = on[i]!
    if (t[key] <= t[lower]) return { key, problem: `${t[key]} must be above ${lower} (${t[lower]}): a higher SCL gets the stricter action` }
  }
  return undefined
}
