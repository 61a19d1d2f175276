import { describe, expect, it } from 'vitest'

import { authservIdOf, claimsAuthservId, dmarcEntry, normalizeDkimEntry, stripClaims } from './auth-results-header'

describe('authservIdOf', () => {
  it('reads the first token, skipping comments and whitespace, unquoting, case-folded', () => {
    expect(authservIdOf('mx.example.com; spf=pass')).toBe('mx.example.com')
    expect(authservIdOf(' MX.Example.COM 1; dkim=pass')).toBe('mx.example.com')
    expect(authservIdOf('(looks (nested) legit)\r\n\t"mx.example.com"; none')).toBe('mx.example.com')
    expect(authservIdOf('mx.example.com.;none')).toBe('mx.example.com')
  })
})

describe('claimsAuthservId', () => {
  it('matches only our id', () => {
    expect(claimsAuthservId('mx.example.com; dmarc=pass', 'MX.example.com')).toBe(true)
    expect(claimsAuthservId('mx.example.com.evil.test; dmarc=pass', 'mx.example.com')).toBe(false)
    expect(claimsAuthservId('evil.test; dmarc=pass (mx.example.com)', 'mx.example.com')).toBe(false)
  })
})

describe('stripClaims (on Haraka\'s own header object)', () => {
  // the Header class Haraka's transactions use; remove/add as transaction.js does
  const { Header } = require('haraka-email-message') as { Header: new () => Haraka.HeaderStore & { parse(lines: string[]): void; remove(n: string): void; add_end(n: string, v: string): void } }
  function txnWith(lines: string[]) {
    const header = new Header()
    header.parse(lines.map((l) => `${l}\n`))
    return { header, remove_header: (n: string) => header.remove(n), add_header: (n: string, v: string) => header.add_end(n, v) }
  }

  it('deletes both header names when they claim our id and keeps the others in order', () => {
    const txn = txnWith([
      'Original-Authentication-Results: partner.test; spf=pass',
      'Original-Authentication-Results: mx.example.com; dmarc=pass',
      'Authentication-Results: (x) MX.EXAMPLE.COM;',
      '\tdkim=pass',
      'Original-Authentication-Results: other.test; dkim=pass',
      'Subject: mx.example.com; x',
    ])
    expect(stripClaims(txn, 'mx.example.com')).toBe(2)
    expect(txn.header.header_list).toEqual([
      'Subject: mx.example.com; x\n',
      'Original-Authentication-Results: partner.test; spf=pass\n',
      'Original-Authentication-Results: other.test; dkim=pass\n',
    ])
  })

  it('deletes fields in obsolete syntax, which Haraka\'s header map does not list', () => {
    const txn = txnWith(['Authentication-Results : mx.example.com; dmarc=pass', 'original-authentication-results\t: x; y', 'Subject : kept'])
    expect(txn.header.get_all('Authentication-Results')).toEqual([])
    expect(stripClaims(txn, 'mx.example.com')).toBe(2)
    expect(txn.header.header_list).toEqual(['Subject : kept\n'])
  })

  it('leaves the headers alone when nothing claims our id', () => {
    const txn = txnWith(['Authentication-Results: partner.test; spf=pass'])
    expect(stripClaims(txn, 'mx.example.com')).toBe(0)
    expect(txn.header.header_list).toEqual(['Authentication-Results: partner.test; spf=pass\n'])
  })
})

describe('result entries', () => {
  it("maps haraka-plugin-dkim's words to RFC 8601 results", () => {
    expect(normalizeDkimEntry('dkim=invalid (no key for signature) header.d=x.test')).toBe('dkim=permerror (no key for signature) header.d=x.test')
    expect(normalizeDkimEntry('dkim=tempfail header.d=x.test')).toBe('dkim=temperror header.d=x.test')
    expect(normalizeDkimEntry('dkim=pass header.d=x.test')).toBe('dkim=pass header.d=x.test')
    expect(normalizeDkimEntry('spf=invalid')).toBe('spf=invalid')
  })

  it('formats the dmarc entry', () => {
    expect(dmarcEntry('fail', 'example.com', 'reject')).toBe('dmarc=fail (p=reject) header.from=example.com')
    expect(dmarcEntry('none', 'example.com')).toBe('dmarc=none header.from=example.com')
    expect(dmarcEntry('none', '')).toBe('dmarc=none')
  })
})
