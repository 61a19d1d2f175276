// The hooks gateway plugins may use, with the arguments each handler gets and
// what its result means to Haraka. One table (HOOKS) says, for every hook, what
// it runs on, whether its outcome can change anything, and what a failure means;
// the adapter (define.ts) reads nothing else.

import * as constants from 'haraka-constants'
import DSN from 'haraka-dsn'

import type { HookResult, QueueVerdict, Verdict } from './verdict'

type Awaitable<T> = T | Promise<T>
type Conn = Haraka.Connection
type Txn = Haraka.Transaction
type QueuedMail = Haraka.QueuedMail

/** A hook that may decide (a Verdict ends the chain; nothing continues it). */
type Decides = Awaitable<HookResult>
/** A hook whose outcome Haraka ignores (or that must never change it): it only observes. */
type Observes = Awaitable<void>

export type EnvelopeParams = [Haraka.Address, Record<string, string>]
/** What Haraka hands the deny hook: [code, msg, plugin, method, params, hook]. */
export type DenyParams = [number, unknown, string, string, unknown, string]
export interface DeferredParams {
  delay: number
  err: unknown
}

/**
 * A delivery-queue hook whose failure must be answered by the plugin: no answer
 * is safe for every plugin (a bounce hook that cannot tell where a DSN goes should
 * drop it; one that only keeps records should carry on).
 */
export interface QueueHook<A extends unknown[]> {
  run(...args: A): Awaitable<QueueVerdict>
  /** Used when `run` throws, rejects or overruns its time. */
  readonly onFailure: QueueVerdict
}

/**
 * The hooks and their handlers' arguments. Transaction hooks get the transaction
 * as their second argument, never null (held for the whole call, also after an
 * await, when `c.transaction` may already be reset).
 */
export interface Hooks {
  connect_init(c: Conn): Observes
  connect(c: Conn): Decides
  capabilities(c: Conn): Decides
  helo(c: Conn, host: string): Decides
  ehlo(c: Conn, host: string): Decides
  unrecognized_command(c: Conn, params: string[]): Decides
  mail(c: Conn, txn: Txn, params: EnvelopeParams): Decides
  rcpt(c: Conn, txn: Txn, params: EnvelopeParams): Decides
  rcpt_ok(c: Conn, txn: Txn, rcpt: Haraka.Address): Observes
  data(c: Conn, txn: Txn): Decides
  data_post(c: Conn, txn: Txn): Decides
  /** After DATA went over connection.ini [max] bytes (Haraka answers it; see gateway-content). */
  max_data_exceeded(c: Conn, txn: Txn): Decides
  queue(c: Conn, txn: Txn): Decides
  queue_outbound(c: Conn, txn: Txn): Decides
  queue_ok(c: Conn, txn: Txn, msg: string): Observes
  /** Runs whenever a hook denied. */
  deny(c: Conn, params: DenyParams): Observes
  disconnect(c: Conn): Observes
  /** Where a queued message goes: acceptAndStop(mxList) answers it. */
  get_mx(hmail: QueuedMail, domain: string): Decides
  /** Before each delivery attempt: cont, or delay(seconds) without counting an attempt. */
  send_email: QueueHook<[hmail: QueuedMail]>
  /** After a temporary failure: cont (re-queue) or drop. */
  deferred: QueueHook<[hmail: QueuedMail, params: DeferredParams]>
  /** Before a DSN is made: cont, or drop (no DSN). */
  bounce: QueueHook<[hmail: QueuedMail, err: unknown]>
  delivered(hmail: QueuedMail, params: unknown[]): Observes
  /**
   * Right before Haraka writes a message to its delivery queue (outbound/index.js
   * send_trans_email), in plugin order. Haraka ignores the outcome, and a deny there
   * would run every plugin's deny hook on Haraka's stand-in connection: observe only.
   */
  pre_send_trans_email(ctx: Haraka.QueueingContext, txn: Txn): Observes
}

export type HookName = keyof Hooks

/** The method name under which a gateway plugin registers its handler for `hook` with Haraka. */
export const gatewayMethod = (hook: string): string => `gateway_${hook}`

/** What a hook runs on: a client connection, its transaction, a queued message, or the queueing step. */
export type HookTarget = 'connection' | 'transaction' | 'queue' | 'queueing'
/** How the handler's result reaches Haraka. */
export type HookOutcome = 'verdict' | 'observe' | 'queue'

export interface HookKind {
  readonly target: HookTarget
  readonly outcome: HookOutcome
}

const kind = (target: HookTarget, outcome: HookOutcome): HookKind => Object.freeze({ target, outcome })

export const HOOKS: { readonly [K in HookName]: HookKind } = Object.freeze({
  connect_init: kind('connection', 'observe'),
  connect: kind('connection', 'verdict'),
  capabilities: kind('connection', 'verdict'),
  helo: kind('connection', 'verdict'),
  ehlo: kind('connection', 'verdict'),
  unrecognized_command: kind('connection', 'verdict'),
  mail: kind('transaction', 'verdict'),
  rcpt: kind('transaction', 'verdict'),
  rcpt_ok: kind('transaction', 'observe'),
  data: kind('transaction', 'verdict'),
  data_post: kind('transaction', 'verdict'),
  max_data_exceeded: kind('transaction', 'verdict'),
  queue: kind('transaction', 'verdict'),
  queue_outbound: kind('transaction', 'verdict'),
  queue_ok: kind('transaction', 'observe'),
  deny: kind('connection', 'observe'),
  disconnect: kind('connection', 'observe'),
  get_mx: kind('queue', 'verdict'),
  send_email: kind('queue', 'queue'),
  deferred: kind('queue', 'queue'),
  bounce: kind('queue', 'queue'),
  delivered: kind('queue', 'observe'),
  pre_send_trans_email: kind('queueing', 'observe'),
})

export function isHookName(name: string): name is HookName {
  return Object.hasOwn(HOOKS, name)
}

/** Hands an SMTP (or get_mx) verdict to Haraka. */
export function nextWithVerdict(next: Haraka.Next, verdict: HookResult): void {
  if (!verdict) return next()
  const v: Verdict = verdict
  switch (v.kind) {
    case 'acceptAndStop':
      return next(constants.ok, v.value)
    case 'reject':
      return next(v.disconnect ? constants.denydisconnect : constants.deny, toDsn(v.reply))
    case 'tempfail':
      return next(v.disconnect ? constants.denysoftdisconnect : constants.denysoft, toDsn(v.reply))
  }
}

/** Hands a delivery-queue verdict to Haraka. */
export function nextWithQueueVerdict(next: Haraka.Next, hook: HookName, v: QueueVerdict): void {
  switch (v.kind) {
    case 'cont':
      return next()
    case 'delay':
      // only send_email knows DELAY; anywhere else it would be read as "discard".
      // As a string: Haraka logs the message of every non-CONT result and complains about a number
      return hook === 'send_email' ? next(constants.delay, String(v.seconds)) : next()
    case 'drop':
      // deferred_respond and bounce_respond treat anything but CONT (and DENYSOFT) as "discard"
      return next(constants.ok)
  }
}

function toDsn(r: { code: number; enhanced: string; text: string }): DSN {
  const [, subject, detail] = r.enhanced.split('.').map(Number)
  return new DSN(r.code, r.text, null, subject ?? 0, detail ?? 0)
}
