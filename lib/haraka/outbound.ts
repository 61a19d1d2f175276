// Haraka's delivery queue as the gateway uses it without patching anything: the
// outbound module (send_trans_email, documented in docs/Outbound.md), the queue
// folder it writes to, and the transaction factory a quarantine release uses.
//
// - outbound/queue.js `queue_dir` (lines 62-68): the folder Haraka resolved (config
//   queue_dir, relative to its working directory, else $HARAKA/queue). Not
//   documented; reading Haraka's own value beats repeating its rule.
// - transaction.js `createTransaction` (line 271): builds a transaction outside
//   an SMTP session, so a released message is queued exactly like received mail
//   (and read back before it is queued). outbound.send_email (documented) builds
//   one too, but gives no chance to check the bytes before they are queued.
//   end_data() (line 163) is used with it; add_data() is documented.

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

export const SEND_TRANS_EMAIL: HarakaInternal = {
  module: './outbound',
  member: ['send_trans_email'],
  kind: 'function',
  usedBy: 'gateway-spool and quarantine release',
}
export const QUEUE_DIR: HarakaInternal = {
  module: './outbound/queue',
  member: ['queue_dir'],
  kind: 'string',
  usedBy: 'gateway-spool and gateway-queue (free space, queue files)',
}
export const CREATE_TRANSACTION: HarakaInternal = {
  module: './transaction',
  member: ['createTransaction'],
  kind: 'function',
  usedBy: 'quarantine release (gateway-queue, inbound)',
}
export const TRANSACTION_END_DATA: HarakaInternal = {
  module: './transaction',
  member: ['Transaction', 'prototype', 'end_data'],
  kind: 'function',
  usedBy: 'quarantine release (gateway-queue, inbound)',
}

export const OUTBOUND_INTERNALS: readonly HarakaInternal[] = [SEND_TRANS_EMAIL, QUEUE_DIR, CREATE_TRANSACTION, TRANSACTION_END_DATA]

/** Haraka's outbound module: send_trans_email queues a transaction for delivery. */
export function outboundModule(source: HarakaSource): Haraka.Outbound {
  requireInternal(source, SEND_TRANS_EMAIL)
  return loaderOf(source)(SEND_TRANS_EMAIL.module) as Haraka.Outbound
}

/** The absolute folder of Haraka's delivery queue. */
export function queueDir(source: HarakaSource): string {
  return requireInternal<string>(source, QUEUE_DIR)
}

/** A transaction a plugin fills and queues itself (transaction.js). */
export type BuiltTransaction = Haraka.Transaction & {
  add_data(line: Buffer): void
  end_data(cb: () => void): void
}

/** Haraka's transaction.js, as a quarantine release uses it. */
export interface TransactionModule {
  createTransaction(uuid: string, cfg: object): BuiltTransaction
}

export function transactionModule(source: HarakaSource): TransactionModule {
  requireInternal(source, CREATE_TRANSACTION)
  requireInternal(source, TRANSACTION_END_DATA)
  return loaderOf(source)(CREATE_TRANSACTION.module) as TransactionModule
}
