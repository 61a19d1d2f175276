// Unit tests for the outbound TLS policy: domain matching and the CA bundle.
import { rootCertificates } from 'node:tls'

import { describe, expect, it } from 'vitest'

import { parsePemBundle, TlsPolicy, trustStore } from './outbound-policy'

describe('TlsPolicy', () => {
  it('matches listed domains exactly, case-insensitively', () => {
    const p = new TlsPolicy(['Partner.Test'])
    expect(p.requiresTls('partner.test')).toBe(true)
    expect(p.requiresTls('PARTNER.TEST.')).toBe(true)
    expect(p.requiresTls('sub.partner.test')).toBe(false)
    expect(p.requiresTls('constructor')).toBe(false)
  })
})

describe('CA bundle', () => {
  it('refuses a file without certificates or with a broken one', () => {
    expect(() => parsePemBundle('hello')).toThrow(/no PEM certificate/)
    expect(() => parsePemBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(/certificate 1 is not valid/)
  })

  it('trusts the system roots and the configured CAs together', () => {
    const own = parsePemBundle(rootCertificates[0]!)
    expect(trustStore(own)).toHaveLength(rootCertificates.length + 1)
  })
})
