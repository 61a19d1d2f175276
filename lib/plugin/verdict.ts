// What a hook decides. Hooks return a Verdict (or nothing, meaning "not my call,
// let the next plugin decide"); the adapter in define.ts turns it into Haraka's
// return codes. Detection code builds these from configured actions, never by hand.

import { reply, type Reply } from '../smtp/reply'

export type Verdict =
  /** Stop the hook chain and accept (Haraka OK). `value` is the hook's payload, e.g. an MX list. */
  | { readonly kind: 'accept'; readonly value?: unknown }
  /** Permanent rejection (5xx). */
  | { readonly kind: 'reject'; readonly reply: Reply; readonly disconnect: boolean }
  /** Temporary failure (4xx): the client should retry later. */
  | { readonly kind: 'tempfail'; readonly reply: Reply; readonly disconnect: boolean }

export type HookResult = Verdict | undefined | void

export interface DenyOptions {
  /** Close the connection after the reply. */
  disconnect?: boolean
}

export function accept(value?: unknown): Verdict {
  return value === undefined ? { kind: 'accept' } : { kind: 'accept', value }
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
