// The one record of every decision the gateway makes: a log line, an entry in
// Haraka's results, a counter, and (unless told otherwise) a note that travels
// with the message into its X-Gateway-* headers (marks.ts). decide() records
// through here; so do decisions whose reply is not the policy's (the harvest
// cut-off, the AUTH lockout), which call record() and answer themselves.
// Logs, reports and counters therefore name every decision the same way:
//   decision check=<check> result=<result> action=<action> [detail="<for the log only>"]

import { countDecision } from '../stats/decisions'
import { noteDecision } from './marks'

/** The actions an operator can configure for a check (see actions.ts). */
export const ACTIONS = ['reject', 'tempfail', 'quarantine', 'tag', 'accept', 'monitor'] as const
export type Action = (typeof ACTIONS)[number]

export interface DecisionRecord {
  /** The check, e.g. "sender-filter". Also the counter and header name. */
  readonly check: string
  /** Short machine-readable result, e.g. "internal_domain_spoofed". */
  readonly result: string
  readonly action: Action
  /** For the log only; never sent to the client or written into the message. */
  readonly detail?: string | undefined
  /** Tag text for X-Gateway-Tag when the action is tag. */
  readonly tag?: string | undefined
}

export interface RecordOptions {
  /**
   * Note the decision for the message's X-Gateway-Checks / X-Gateway-Tag headers
   * (default true). False where those headers would leave the organisation
   * (decisions about what an internal sender may send).
   */
  readonly marks?: boolean
  /** The results entry's owner when a Haraka convention names one (AUTH outcomes: "auth"); default the plugin. */
  readonly resultsAs?: string
}

/** Logs, records and counts one decision (and notes it for the message unless `marks: false`). */
export function record(plugin: { readonly name: string }, c: Haraka.Connection, d: DecisionRecord, opts: RecordOptions = {}): void {
  c.lognotice(plugin, `decision check=${d.check} result=${d.result} action=${d.action}${d.detail ? ` detail=${JSON.stringify(d.detail)}` : ''}`)
  const kind = d.action === 'monitor' ? 'msg' : d.action === 'accept' ? 'pass' : 'fail'
  ;(c.transaction?.results ?? c.results).add(opts.resultsAs ? { name: opts.resultsAs } : plugin, { [kind]: `${d.result}:${d.action}` })
  if (opts.marks !== false) {
    noteDecision(c, { check: d.check, result: d.result, action: d.action, ...(d.tag ? { tag: d.tag } : {}) })
  }
  countDecision(d.check, d.action)
}
