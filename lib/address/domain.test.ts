// Unit tests for the one domain-name contract: canonical form, host names only.
import { describe, expect, it } from 'vitest'

import { hostDomain, parseDomainName } from './domain'

describe('hostDomain', () => {
  it('lower-cases, drops a trailing dot and converts IDNs to A-labels', () => {
    expect(hostDomain(' Mail.Example.NET. ')).toBe('mail.example.net')
    expect(hostDomain('bücher.example')).toBe('xn--bcher-kva.example')
  })

  it('refuses what is not a host name of two labels or more', () => {
    for (const bad of ['', 'localhost', 'a..b.com', '-a.com', 'a_b.com', 'exa mple.com', `${'a'.repeat(64)}.com`, '1.2.3.4x/', 'a.com/x', '1.2.3.4', 'a.com:25', '../example.com', 'constructor', '__proto__.com']) {
      expect(hostDomain(bad), bad).toBeUndefined()
    }
  })
})

it('parseDomainName returns the same form and throws a plain message for non-domains', () => {
  expect(parseDomainName(' Partner.Test. ')).toBe('partner.test')
  for (const bad of ['localhost', 'a b.test', '-x.test', 'x..test', '']) expect(() => parseDomainName(bad), bad).toThrow(/not a domain name/)
})
