// Unit tests for domain-name normalisation.
import { expect, it } from 'vitest'

import { normalizeDomain } from './domain'

it('normalizeDomain lower-cases, drops the trailing dot and refuses non-domains', () => {
  expect(normalizeDomain(' Partner.Test. ')).toBe('partner.test')
  for (const bad of ['localhost', 'a b.test', '-x.test', 'x..test', '']) expect(() => normalizeDomain(bad), bad).toThrow(/not a domain name/)
})
