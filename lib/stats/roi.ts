// Filter ROI: for a refused or quarantined message, which check decided it first
// and which other checks would also have caught it, from the decisions the
// message carries (lib/policy/marks.ts decisionsOf). So an operator sees, per
// filter, the messages it alone caught; a filter whose "only" stays at 0 catches
// nothing the others would not. Limit: checks after the one that refused never ran,
// so "also" and "only" know only the checks that ran before the refusal (and, for
// a quarantined message, every check, since quarantine acts when the message is spooled).

import type { Decision } from '../policy/marks'
import { roiField, STAT } from './fields'

/** Actions that stop or divert the message. */
const STOPPING: ReadonlySet<string> = new Set(['reject', 'tempfail', 'quarantine'])
/** Actions that would have stopped it, or marked it, had the check been enforcing. */
const CATCHING: ReadonlySet<string> = new Set([...STOPPING, 'tag', 'monitor'])

/**
 * Results that say the check found nothing (or could not look), whatever its action:
 * a check in monitor mode records "monitor" for every message, clean ones too. For
 * spam, SCL below 5 (the shipped tag threshold) counts as clean.
 */
export function isPassResult(result: string): boolean {
  return /^(clean|pass|none|neutral|unscanned)$/.test(result) || /^scl_[0-4]$/.test(result)
}

/** Whether a decision caught the message (stopped, marked or would have). */
export function caught(d: Decision): boolean {
  return CATCHING.has(d.action) && !isPassResult(d.result)
}

/**
 * The ROI counters of one refused or quarantined message: roi:first:<check> for the
 * first stopping decision, roi:also:<check> for every other check that caught it
 * (once per check), and roi:only:<check> when there is none; roi_unattributed when
 * no recorded check stopped it (a plugin that refuses without a decision).
 */
export function roiFields(decisions: readonly Decision[]): string[] {
  const first = decisions.find((d) => STOPPING.has(d.action) && !isPassResult(d.result))
  if (!first) return [STAT.roiUnattributed]
  const others = new Set(decisions.filter((d) => d.check !== first.check && caught(d)).map((d) => d.check))
  if (others.size === 0) return [roiField('first', first.check), roiField('only', first.check)]
  return [roiField('first', first.check), ...[...others].map((check) => roiField('also', check))]
}
