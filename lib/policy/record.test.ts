// Unit tests for the one decision recorder (record.ts) and decide() on top of it:
// every decision gives the same log line, results entry and counter; it travels
// with the message (marks) unless told not to; and decide() turns the action
// into the verdict (only reject and tempfail refuse).

import { afterEach, describe, expect, it } from 'vitest'

import { fakeConnection, fakeTransaction } from '../plugin/testing'
import { reply } from '../smtp/reply'
import { setDecisionSink } from '../stats/decisions'
import { decide, type Finding } from './actions'
import { decisionsOf } from './marks'
import { record } from './record'

const plugin = { name: 'test-check-plugin' }
const counted: string[] = []
setDecisionSink((field) => counted.push(field))
afterEach(() => {
  counted.length = 0
})

function inTransaction() {
  const c = fakeConnection()
  const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['b@example.com'] })
  return { c, txn }
}

describe('record', () => {
  it('logs one line, adds a results entry, counts, and notes the decision for the message', () => {
    const { c, txn } = inTransaction()
    record(plugin, c, { check: 'spam', result: 'scl_7', action: 'quarantine', detail: 'score=12/6 "x"', tag: 'likely spam' })
    expect(c.log).toEqual(['NOTICE [test-check-plugin] decision check=spam result=scl_7 action=quarantine detail="score=12/6 \\"x\\""'])
    expect(txn.results.get(plugin)).toEqual({ fail: ['scl_7:quarantine'] })
    expect(counted).toEqual(['check:spam:quarantine'])
    expect(decisionsOf(c)).toEqual([{ check: 'spam', result: 'scl_7', action: 'quarantine', tag: 'likely spam' }])
  })

  it('records accept as pass and monitor as msg; no detail, no detail field', () => {
    const { c, txn } = inTransaction()
    record(plugin, c, { check: 'virus', result: 'clean', action: 'accept' })
    record(plugin, c, { check: 'rule', result: 'matched', action: 'monitor' })
    expect(txn.results.get(plugin)).toEqual({ pass: ['clean:accept'], msg: ['matched:monitor'] })
    expect(c.log[0]).toBe('NOTICE [test-check-plugin] decision check=virus result=clean action=accept')
  })

  it('before a transaction: on the connection; a refusal is not carried into a later message', () => {
    const c = fakeConnection()
    record(plugin, c, { check: 'harvest', result: 'blocked', action: 'tempfail' })
    record(plugin, c, { check: 'dnsbl', result: 'listed', action: 'tag' })
    expect(c.results.get(plugin)).toEqual({ fail: ['blocked:tempfail', 'listed:tag'] })
    const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['b@example.com'] })
    expect(txn.results.get(plugin)).toBeUndefined()
    expect(decisionsOf(c)).toEqual([{ check: 'dnsbl', result: 'listed', action: 'tag' }])
  })

  it('marks: false keeps the decision out of the message (never in a header), resultsAs files it under a convention name', () => {
    const { c, txn } = inTransaction()
    record(plugin, c, { check: 'sender-scope', result: 'envelope_out_of_scope', action: 'reject' }, { marks: false, resultsAs: 'auth' })
    expect(decisionsOf(c)).toEqual([])
    expect(txn.results.get('auth')).toEqual({ fail: ['envelope_out_of_scope:reject'] })
    expect(counted).toEqual(['check:sender-scope:reject'])
  })
})

describe('decide', () => {
  const finding: Finding = { check: 'sender-filter', result: 'internal_domain_envelope', detail: 'ceo@example.com', reply: reply(550, '5.7.1', 'Sender address rejected') }

  it('reject refuses with the finding reply; tempfail with 451 4.7.1 and the same text', () => {
    const { c } = inTransaction()
    expect(decide(plugin, c, finding, 'reject')).toEqual({ kind: 'reject', reply: finding.reply, disconnect: false })
    expect(decide(plugin, c, finding, 'tempfail')).toEqual({ kind: 'tempfail', reply: reply(451, '4.7.1', 'Sender address rejected'), disconnect: false })
  })

  it.each(['quarantine', 'tag', 'accept', 'monitor'] as const)('%s records and continues the chain (no verdict)', (action) => {
    const { c } = inTransaction()
    expect(decide(plugin, c, finding, action)).toBeUndefined()
    expect(c.log).toEqual([`NOTICE [test-check-plugin] decision check=sender-filter result=internal_domain_envelope action=${action} detail="ceo@example.com"`])
    expect(counted).toEqual([`check:sender-filter:${action}`])
  })

  it('passes record options through (a decision that must not be marked)', () => {
    const { c } = inTransaction()
    expect(decide(plugin, c, finding, 'monitor', { marks: false })).toBeUndefined()
    expect(decisionsOf(c)).toEqual([])
  })
})
