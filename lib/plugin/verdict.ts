// What a hook decides. SMTP hooks return a Verdict (or nothing, meaning "not my
// call, let the next plugin decide"); delivery-queue hooks return a QueueVerdict.
// The adapter in define.ts turns both into Haraka's return codes. Detection code
// builds refusals from configured actions (lib/policy/actions.ts), never by hand.
//
// The names say what happens to Haraka's hook chain: every verdict ends it
// (acceptAndStop, reject, tempfail); returning nothing continues it. Note the
// policy action "accept" (lib/policy/actions.ts) is not a verdict: it records
// the decision and continues the chain.

import { reply, type Reply } from '../smtp/reply'

export type Verdict =
  /**
   * Haraka OK: this hook's answer is final, later plugins of the hook do not run
   * (at RCPT: the recipient is accepted without further checks). `value` is the
   * hook's payload: the reply text, or an MX list at get_mx.
   */
  | { readonly kind: 'acceptAndStop'; readonly value?: unknown }
  /** Permanent rejection (5xx). */
  | { readonly kind: 'reject'; readonly reply: Reply; readonly disconnect: boolean }
  /** Temporary failure (4xx): the client should retry later. */
  | { readonly kind: 'tempfail'; readonly reply: Reply; readonly disconnect: boolean }

export type HookResult = Verdict | undefined | void

export interface DenyOptions {
  /** Close the connection after the reply. */
  disconnect?: boolean
}

/** Ends the hook chain with Haraka's OK (see Verdict). Never use it to say "this check passed": return nothing. */
export function acceptAndStop(value?: unknown): Verdict {
  return value === undefined ? { kind: 'acceptAndStop' } : { kind: 'acceptAndStop', value }
}

export function reject(code: number, enhanced: string, text: string, opts: DenyOptions = {}): Verdict {
  if (code < 500) throw new Error(`reject() needs a 5xx code, got ${code}`)
  return { kind: 'reject', reply: reply(code, enhanced, text), disconnect: opts.disconnect ?? false }
}

export function tempfail(code: number, enhanced: string, text: string, opts: DenyOptions = {}): Verdict {
  if (code < 400 || code >= 500) throw new Error(`tempfail() needs a 4xx code, got ${code}`)
  return { kind: 'tempfail', reply: reply(code, enhanced, text), disconnect: opts.disconnect ?? false }
}

/** A prepared Reply as a verdict of the matching kind. */
export function deny(r: Reply, opts: DenyOptions = {}): Verdict {
  return r.code >= 500 ? reject(r.code, r.enhanced, r.text, opts) : tempfail(r.code, r.enhanced, r.text, opts)
}

/** What a delivery-queue hook (send_email, deferred, bounce) decides. */
export type QueueVerdict =
  /** Let the next plugin (then Haraka) carry on. */
  | { readonly kind: 'cont' }
  /** send_email: try again in `seconds`, without counting an attempt. */
  | { readonly kind: 'delay'; readonly seconds: number }
  /** deferred: do not re-queue, delete the message. bounce: send no DSN. */
  | { readonly kind: 'drop' }

export const CONT: QueueVerdict = Object.freeze({ kind: 'cont' })
export const DROP: QueueVerdict = Object.freeze({ kind: 'drop' })
export function delay(seconds: number): QueueVerdict {
  return { kind: 'delay', seconds: Math.max(1, Math.ceil(seconds)) }
}
