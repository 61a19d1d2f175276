// Whether the queue may try a message now: held domains wait, and a flush asked
// for one domain must not pull every other domain's retries forward. Pure logic
// for the gateway-queue plugin's send_email hook.

import type { FlushScope } from './control'

export type SendDecision =
  | { readonly kind: 'send' }
  /** Put back for `seconds` without counting an attempt (Haraka's DELAY). */
  | { readonly kind: 'delay'; readonly seconds: number; readonly why: 'held' | 'not-in-flush-scope' }

export interface SendInput {
  readonly domain: string
  /** The attempt time Haraka scheduled (from the queue file name), ms since epoch. */
  readonly nextAttempt: number
  readonly now: number
  readonly held: ReadonlySet<string>
  readonly scope: FlushScope | null
  /** How long a held message waits before the hold is checked again (a flush checks at once). */
  readonly holdRecheckSeconds: number
}

/** Slack for timers that fire a little early. */
const EARLY_MS = 1000

export function decideSend(i: SendInput): SendDecision {
  const domain = i.domain.toLowerCase()
  if (i.held.has(domain)) return { kind: 'delay', seconds: i.holdRecheckSeconds, why: 'held' }
  // Only a flush makes Haraka try a message before its scheduled time; when the
  // flush was for another domain, this message goes back to its own schedule.
  if (i.scope && i.scope.domain !== domain && i.nextAttempt > i.now + EARLY_MS) {
    return { kind: 'delay', seconds: Math.ceil((i.nextAttempt - i.now) / 1000), why: 'not-in-flush-scope' }
  }
  return { kind: 'send' }
}
