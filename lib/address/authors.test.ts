// Unit tests for reading a message's authors the way mail clients do, including the tricks spoofers use.

import { describe, expect, it } from 'vitest'

import { addressTokens, authorCandidates, parseMailboxes, rawFields } from './authors'

describe('rawFields', () => {
  it('finds every field of a name, any case, also in obsolete "Name : value" syntax, unfolded', () => {
    const list = ['From: <a@x.test>\n', 'Subject: hi\n', 'from : <b@y.test>\n', 'FROM:\n\t<c@z.test>\n', 'X-From: no\n']
    expect(rawFields(list, 'From').map((f) => f.value)).toEqual(['<a@x.test>', '<b@y.test>', '<c@z.test>'])
  })
})

describe('parseMailboxes', () => {
  it('reads the mailbox a client shows, not addresses hidden in comments or quoted text', () => {
    expect(parseMailboxes('(") <ceo@example.com> (" (x) app@example.com)')).toEqual({ ok: true, addresses: ['ceo@example.com'] })
    expect(parseMailboxes('=?utf-8?q?app=40example=2Ecom_=22?= <ceo@example.com> (")')).toEqual({ ok: true, addresses: ['ceo@example.com'] })
    expect(parseMailboxes('"app@example.com" <CEO@Example.com>')).toEqual({ ok: true, addresses: ['ceo@example.com'] })
  })

  it('flattens lists and groups', () => {
    expect(parseMailboxes('a@x.test, B <b@y.test>')).toEqual({ ok: true, addresses: ['a@x.test', 'b@y.test'] })
    expect(parseMailboxes('Team: a@x.test, b@y.test;')).toEqual({ ok: true, addresses: ['a@x.test', 'b@y.test'] })
  })

  it('reports what does not parse instead of guessing', () => {
    expect(parseMailboxes('not an address').ok).toBe(false)
    expect(parseMailboxes('').ok).toBe(false)
  })
})

describe('authorCandidates', () => {
  it('uses the parsed mailboxes of every From field, and every token of one that does not parse', () => {
    const list = ['From: App <app@example.com>\n', 'From : (") <ceo@example.com> (" (x) x@y.test)\n', 'From: broken <<a@b.test\n']
    expect(authorCandidates(list).sort()).toEqual(['a@b.test', 'app@example.com', 'ceo@example.com'])
  })

  it('address-like tokens are a superset', () => {
    expect(addressTokens('"x@a.test" <y@b.test> (z@c.test.)')).toEqual(['x@a.test', 'y@b.test', 'z@c.test'])
  })
})
