// Unit tests for sender scopes: addresses, domains, *.domain, <> and *, the null
// sender for server accounts, prototype names, and the default scope.
import { describe, expect, it } from 'vitest'

import { defaultScope, namesAnAddress, SenderScope, splitScope } from './sender-scope'

describe('SenderScope', () => {
  it('allows exactly the listed addresses, case-insensitively, and nothing else', () => {
    const s = new SenderScope(['App@Example.com'])
    expect(s.allows('app@example.com')).toBe(true)
    expect(s.allows('APP@EXAMPLE.COM')).toBe(true)
    for (const a of ['ceo@example.com', 'app+x@example.com', 'app@example.com.evil.test', 'app@sub.example.com', '']) {
      expect([a, s.allows(a)]).toEqual([a, false])
    }
  })

  it('allows a whole domain (exactly) or its subdomains (*.domain), and then the null sender', () => {
    const domain = new SenderScope(['example.com'])
    expect(domain.allows('anyone@example.com')).toBe(true)
    expect(domain.allows('x@mail.example.com')).toBe(false)
    expect(domain.allows('x@badexample.com')).toBe(false)
    expect(domain.allows('')).toBe(true)
    const sub = new SenderScope(['*.example.com'])
    expect(sub.allows('x@mail.example.com')).toBe(true)
    expect(sub.allows('x@example.com')).toBe(false)
    expect(sub.allows('')).toBe(true)
  })

  it('allows the null sender to an address-only scope only when granted "<>"', () => {
    expect(new SenderScope(['app@example.com']).allows('')).toBe(false)
    expect(new SenderScope(['app@example.com', '<>']).allows('')).toBe(true)
    expect(new SenderScope(['<>']).allows('a@example.com')).toBe(false)
  })

  it('allows anything with "*" and nothing when empty', () => {
    expect(new SenderScope(['*']).allows('who@ever.test')).toBe(true)
    expect(new SenderScope(['*']).allows('')).toBe(true)
    const none = new SenderScope([])
    expect(none.allows('a@example.com')).toBe(false)
    expect(none.allows('')).toBe(false)
    expect(none.toString()).toBe('(nothing)')
  })

  it('is immune to prototype names', () => {
    const s = new SenderScope(['example.com'])
    for (const a of ['x@constructor', 'x@__proto__', 'constructor@toString', 'x@hasOwnProperty']) expect([a, s.allows(a)]).toEqual([a, false])
    expect(new SenderScope(['constructor']).allows('x@constructor')).toBe(true)
  })

  it('refuses entries that are not an address, a domain, *.domain, <> or *', () => {
    for (const bad of ['alerts@', '@example.com', 'ex ample.com', '*@example.com', 'a@*.example.com', '<a@example.com>', 'example..com', '**.example.com', '*.']) {
      expect(() => new SenderScope([bad]), bad).toThrow(/is not an address, a domain, \*\.domain, <> or \*/)
    }
  })

  it('lists its entries normalized and without repeats', () => {
    expect(new SenderScope(['Example.com', 'example.com', '<>']).toString()).toBe('example.com, <>')
  })
})

describe('splitScope', () => {
  it('splits on commas and blanks', () => {
    expect(splitScope(' example.com,app@example.org  <>,, *.example.net ')).toEqual(['example.com', 'app@example.org', '<>', '*.example.net'])
    expect(splitScope('  ')).toEqual([])
  })
})

describe('defaultScope', () => {
  const domains = new Set(['example.com', 'example.org'])
  it('is the own address for a user named like an address', () => {
    const s = defaultScope('App@Example.com', domains)
    expect(s.allows('app@example.com')).toBe(true)
    expect(s.allows('other@example.com')).toBe(false)
    expect(s.allows('')).toBe(false)
    expect(namesAnAddress('App@Example.com')).toBe(true)
  })

  it('is the accepted domains (and the null sender) for any other name', () => {
    const s = defaultScope('exchange', domains)
    expect(s.allows('anyone@example.org')).toBe(true)
    expect(s.allows('x@partner.test')).toBe(false)
    expect(s.allows('')).toBe(true)
    for (const name of ['exchange', 'a@', '@b', 'a@b@c']) expect([name, namesAnAddress(name)]).toEqual([name, false])
  })
})
