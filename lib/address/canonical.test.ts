// Unit tests for the canonical address form every policy comparison uses.

import { describe, expect, it } from 'vitest'

import { canonicalAddress, canonicalDomain, domainOf, hasRoutingSyntax } from './canonical'

describe('canonical addresses', () => {
  it('unquotes local parts, lower-cases, converts IDN domains to A-labels and drops a trailing dot', () => {
    expect(canonicalAddress('"AllStaff"@Example.COM')).toBe('allstaff@example.com')
    expect(canonicalAddress('"all\\staff"@example.com')).toBe('allstaff@example.com')
    expect(canonicalAddress('ceo@Bücher.Example.')).toBe('ceo@xn--bcher-kva.example')
    expect(canonicalDomain('xn--bcher-kva.example')).toBe('xn--bcher-kva.example')
    expect(domainOf('"x@y"@BÜCHER.example')).toBe('xn--bcher-kva.example')
  })

  it('spots local parts that ask for further routing', () => {
    expect(hasRoutingSyntax('allstaff%example.com@example.com')).toBe(true)
    expect(hasRoutingSyntax('host!allstaff@example.com')).toBe(true)
    expect(hasRoutingSyntax('"a@b"@example.com')).toBe(true)
    expect(hasRoutingSyntax('alice+news@example.com')).toBe(false)
  })
})

describe('canonicalDomain with URL syntax', () => {
  it('never lets URL parsing turn junk into a real domain', () => {
    expect(canonicalDomain('evil.test/x')).toBe('evil.test/x')
    expect(canonicalDomain('example.com?x')).toBe('example.com?x')
  })
})

describe('canonicalDomain answers from its memory of recent domains', () => {
  it('gives the same answer the second time, for prototype names too, and once it had to forget older answers', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(canonicalDomain(name)).toBe(name.toLowerCase())
      expect(canonicalDomain(name)).toBe(name.toLowerCase())
    }
    expect(canonicalDomain('Bücher.Example.')).toBe('xn--bcher-kva.example')
    for (let i = 0; i < 10_000; i++) canonicalDomain(`host${i}.Example`)
    expect(canonicalDomain('Bücher.Example.')).toBe('xn--bcher-kva.example')
    expect(canonicalDomain('HOST9999.Example')).toBe('host9999.example')
  })
})
