// What the gateway does about a finding. Detection code reports a Finding; the
// operator's configured Action for that check decides what happens (maddy's
// split of check and policy). Every decision is recorded the same way
// (record.ts), so reports can say which filter caught what, including filters
// on trial ("monitor": run and record, but do not act).
//
// The action "accept" records the decision and lets the message continue
// through the other checks; it is not the verdict acceptAndStop(), which ends a
// hook's chain.

import { field } from '../config/schema'
import { reply, type Reply } from '../smtp/reply'
import { deny, type Verdict } from '../plugin/verdict'
import { ACTIONS, record, type Action, type RecordOptions } from './record'

export { ACTIONS, type Action } from './record'

/** A config field for a check's action, e.g. `action = reject` in its .ini. */
export function actionField(defaultAction: Action) {
  return field.oneOf(ACTIONS, { default: defaultAction })
}

export interface Finding {
  /** The check, e.g. "sender-filter". Also the counter and header name. */
  check: string
  /** Short machine-readable result, e.g. "internal_domain_spoofed". */
  result: string
  /** For logs only; never sent to the client. */
  detail?: string
  /** The reply when the action is reject (5xx); tempfail uses the same text with 451 4.7.1. */
  reply: Reply
  /** Tag text added as a header (and, for spam, a subject prefix) when the action is tag. */
  tag?: string
}

/**
 * Applies `action` to `finding` for the current transaction (or connection):
 * records the decision (log, results, notes for the message headers, counters)
 * and returns the verdict for the hook. `undefined` means "carry on".
 */
export function decide(plugin: { readonly name: string }, c: Haraka.Connection, finding: Finding, action: Action, opts: RecordOptions = {}): Verdict | undefined {
  record(plugin, c, { check: finding.check, result: finding.result, action, detail: finding.detail, tag: finding.tag }, opts)
  switch (action) {
    case 'reject':
      return deny(finding.reply)
    case 'tempfail':
      return deny(reply(451, '4.7.1', finding.reply.text))
    default:
      // quarantine and tag act when the message is spooled (see marks.ts);
      // accept and monitor only record
      return undefined
  }
}
