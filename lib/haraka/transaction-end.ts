// The end of every transaction of a connection, once, with the transaction still
// whole: a per-connection wrapper of Haraka's Connection.reset_transaction
// (connection.js line 670), installed at connect_init. Haraka calls it when a
// message was answered after DATA (lines 956-1044), on RSET, when MAIL starts the
// next transaction (init_transaction, line 697) and when the client disconnects
// (line 630): whatever ended the transaction, it passes here.
//
// Why no hook can do it (haraka 3.3.4): the `reset_transaction` hook exists but is
// not one of the gateway's hooks (lib/plugin/hooks.ts), and no other hook runs at
// all four ends: `queue_ok` only for accepted mail, `deny` once per refusal (a
// refused RCPT does not end the transaction), `disconnect` after the transaction
// is gone.

import { CHECKLIST, HarakaIncompatibleError, type HarakaInternal } from './internal'

export const RESET_TRANSACTION: HarakaInternal = {
  module: './connection',
  member: ['Connection', 'prototype', 'reset_transaction'],
  kind: 'function',
  usedBy: 'gateway-track (one summary line per transaction)',
}

export const TRANSACTION_END_INTERNALS: readonly HarakaInternal[] = [RESET_TRANSACTION]

type Reset = (cb?: () => void) => void
type Txn = Haraka.Transaction & { resetting?: boolean }

/**
 * Calls `ended(txn, startedAt)` once for each transaction of this connection, just
 * before Haraka resets it. `startedAt` (ms) is when it began: the previous one
 * ended or, for the first, the override was installed (MAIL comes later).
 * A throw of `ended` goes to `failed`: Haraka's reset always happens.
 */
export function onTransactionEnd(c: Haraka.Connection, ended: (txn: Haraka.Transaction, startedAt: number) => void, failed: (err: unknown) => void): void {
  const own = c as unknown as Record<string, unknown>
  const reset = own.reset_transaction
  if (typeof reset !== 'function') {
    throw new HarakaIncompatibleError(`Haraka's connection has no reset_transaction() (used by ${RESET_TRANSACTION.usedBy}); see ${CHECKLIST}`)
  }
  const haraka = (reset as Reset).bind(c)
  let startedAt = Date.now()
  own.reset_transaction = (cb?: () => void) => {
    const txn = c.transaction as Txn | null
    // Haraka resets a transaction once (resetting turns true while its hook runs)
    if (txn && txn.resetting === false) {
      try {
        ended(txn, startedAt)
      } catch (err) {
        failed(err)
      }
      startedAt = Date.now()
    }
    haraka(cb)
  }
}
