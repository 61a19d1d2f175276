import { describe, expect, it } from 'vitest'

import { HarakaIncompatibleError } from './internal'
import { onTransactionEnd } from './transaction-end'

/** A stand-in with Haraka's reset_transaction logic (connection.js line 670). */
function connection() {
  const calls: string[] = []
  const c = {
    transaction: null as { uuid: string; resetting: boolean } | null,
    reset_transaction(cb?: () => void) {
      if (c.transaction && c.transaction.resetting === false) {
        c.transaction.resetting = true
        calls.push(`reset ${c.transaction.uuid}`)
      }
      c.transaction = null
      cb?.()
    },
  }
  return { c, calls, asConnection: c as unknown as Haraka.Connection }
}

describe('onTransactionEnd', () => {
  it('reports each transaction once, before Haraka resets it, and leaves a connection without one alone', () => {
    const { c, calls, asConnection } = connection()
    onTransactionEnd(asConnection, (txn) => calls.push(`ended ${txn.uuid}`), () => calls.push('failed'))
    c.reset_transaction() // init_transaction of the first MAIL: nothing to end
    c.transaction = { uuid: 'T.1', resetting: false }
    let called = false
    c.reset_transaction(() => (called = true))
    c.transaction = { uuid: 'T.2', resetting: true } // already being reset
    c.reset_transaction()
    expect(calls).toEqual(['ended T.1', 'reset T.1'])
    expect(called).toBe(true)
  })

  it('hands a throw to failed and resets all the same', () => {
    const { c, calls, asConnection } = connection()
    onTransactionEnd(asConnection, () => { throw new Error('boom') }, (err) => calls.push(`failed ${(err as Error).message}`))
    c.transaction = { uuid: 'T.1', resetting: false }
    c.reset_transaction()
    expect(calls).toEqual(['failed boom', 'reset T.1'])
  })

  it('refuses a connection without reset_transaction, naming it', () => {
    expect(() => onTransactionEnd({} as Haraka.Connection, () => {}, () => {})).toThrow(HarakaIncompatibleError)
  })
})
