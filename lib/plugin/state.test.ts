// Unit tests for typed session and transaction state.

import { describe, expect, it } from 'vitest'

import { sessionState, transactionState } from './state'
import { fakeConnection, fakeTransaction } from './testing'

describe('typed state', () => {
  const FAILURES = sessionState<number>('gateway_test_failures')
  const PENDING = transactionState<string>('gateway_test_pending')

  it('reads, writes and deletes one typed value, in Haraka notes under its name', () => {
    const c = fakeConnection()
    expect(FAILURES.get(c)).toBeUndefined()
    FAILURES.set(c, (FAILURES.get(c) ?? 0) + 1)
    expect(FAILURES.get(c)).toBe(1)
    expect(c.notes.gateway_test_failures).toBe(1)
    FAILURES.delete(c)
    expect('gateway_test_failures' in c.notes).toBe(false)
  })

  it('transaction state ends with the message; session state lasts the session', () => {
    const c = fakeConnection()
    FAILURES.set(c, 2)
    PENDING.set(fakeTransaction(c), 'a@example.com')
    expect(PENDING.get(c.transaction!)).toBe('a@example.com')
    const next = fakeTransaction(c) // a new MAIL FROM
    expect(PENDING.get(next)).toBeUndefined()
    expect(FAILURES.get(c)).toBe(2)
  })

  it('keys are names Haraka notes can hold', () => {
    expect(() => sessionState('Bad-Name')).toThrow('state key "Bad-Name": lower case letters, digits and _ only')
  })

  it('types keep session and transaction apart', () => {
    const c = fakeConnection()
    const txn = fakeTransaction(c)
    // @ts-expect-error -- a transaction key needs a transaction
    PENDING.get(c)
    // @ts-expect-error -- a session key needs a connection
    FAILURES.get(txn)
    // @ts-expect-error -- the value has the declared type
    FAILURES.set(c, 'three')
  })
})
