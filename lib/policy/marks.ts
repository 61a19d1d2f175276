// Decisions travel with the message: each check's decision is noted on the
// transaction, and when the message is spooled the gateway writes them into its
// own headers (X-Gateway-Checks, X-Gateway-Tag, and a subject prefix if
// configured) and diverts quarantined mail. The header firewall removes any
// X-Gateway-* header that arrived from outside, so these can be trusted inside.
// They are prepended (like Received), never appended: the top of the header
// section is where every parser, however strict, reads headers; a malformed line
// above an appended field would turn it into body for some readers (the verdict hidden).

import { sessionState, transactionState } from '../plugin/state'

export interface Decision {
  check: string
  result: string
  action: string
  tag?: string
}

const SESSION_DECISIONS = sessionState<Decision[]>('gateway_decisions')
const MESSAGE_DECISIONS = transactionState<Decision[]>('gateway_decisions')

/**
 * Decisions made before a transaction exists (connect, HELO) apply to every
 * message of the session, except refusals: they ended that attempt and must not
 * be written into the headers of the session's next, accepted message.
 */
export function noteDecision(c: Haraka.Connection, d: Decision): void {
  const txn = c.transaction
  if (txn) {
    MESSAGE_DECISIONS.set(txn, [...(MESSAGE_DECISIONS.get(txn) ?? []), d])
    return
  }
  if (d.action === 'reject' || d.action === 'tempfail') return
  SESSION_DECISIONS.set(c, [...(SESSION_DECISIONS.get(c) ?? []), d])
}

export function decisionsOf(c: Haraka.Connection): Decision[] {
  const fromSession = SESSION_DECISIONS.get(c) ?? []
  const fromMessage = c.transaction ? (MESSAGE_DECISIONS.get(c.transaction) ?? []) : []
  return [...fromSession, ...fromMessage]
}

/** The first quarantine decision, if any: the message goes to quarantine instead of delivery. */
export function quarantineOf(c: Haraka.Connection): Decision | undefined {
  return decisionsOf(c).find((d) => d.action === 'quarantine')
}

export interface MarkOptions {
  /** Subject prefix for tagged mail, e.g. "[SPAM]"; empty for none. */
  subjectPrefix: string
}

/** Writes the decisions into the message's headers. Called once, just before spooling. */
export function applyMarks(c: Haraka.Connection, opts: MarkOptions): void {
  const txn = c.transaction
  if (!txn) return
  const decisions = decisionsOf(c)
  if (decisions.length === 0) return
  // Each prepend goes on top: written last to first, so they read Checks, Tag..., Subject.
  const tags = decisions.filter((d) => d.action === 'tag')
  if (tags.length > 0 && opts.subjectPrefix) {
    const subject = txn.header.get_decoded('Subject').trim()
    if (!subject.startsWith(opts.subjectPrefix)) {
      txn.remove_header('Subject')
      txn.add_leading_header('Subject', `${opts.subjectPrefix} ${subject}`.trim())
    }
  }
  for (const d of [...tags].reverse()) txn.add_leading_header('X-Gateway-Tag', `${d.check}: ${d.tag ?? d.result}`)
  txn.add_leading_header('X-Gateway-Checks', decisions.map((d) => `${d.check}=${d.result} (${d.action})`).join('; '))
}
