// Unit tests for client-certificate pinning: fingerprint forms, matching by the
// certificate's DER bytes, unknown and expired certificates.
import crypto from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { certificateFingerprint, displayFingerprint, normalizeFingerprint, PeerTable } from './peers'
import { SenderScope } from './sender-scope'

const HEX = 'AB'.repeat(32)

describe('normalizeFingerprint', () => {
  it('accepts the forms openssl and Node print, colons and case optional', () => {
    const colon = displayFingerprint(HEX)
    expect(colon).toMatch(/^AB(:AB){31}$/)
    for (const text of [HEX, HEX.toLowerCase(), colon, `sha256 Fingerprint=${colon}`, `SHA256:${colon.toLowerCase()}`]) {
      expect([text, normalizeFingerprint(text)]).toEqual([text, HEX])
    }
  })

  it('refuses anything that is not 64 hex digits (a SHA-1 fingerprint, say)', () => {
    for (const bad of ['AB'.repeat(20), `${HEX}AB`, 'XY'.repeat(32), '']) expect(normalizeFingerprint(bad)).toBeUndefined()
  })
})

describe('PeerTable', () => {
  const raw = Buffer.from('a certificate in DER')
  const fingerprint = crypto.createHash('sha256').update(raw).digest('hex').toUpperCase()
  const peer = { name: 'mx1', fingerprint, scope: new SenderScope(['example.com']) }
  const table = new PeerTable([peer])
  const valid = { raw, valid_from: 'Jan  1 00:00:00 2026 GMT', valid_to: 'Jan  1 00:00:00 2027 GMT' }
  const now = new Date('2026-06-01T00:00:00Z')

  it('finds the peer by the SHA-256 of the certificate bytes', () => {
    expect(certificateFingerprint(valid)).toBe(fingerprint)
    expect(table.match(valid, now)).toEqual({ kind: 'peer', fingerprint, peer })
  })

  it('tells no certificate from an unknown one', () => {
    expect(table.match({}, now)).toEqual({ kind: 'none' })
    expect(table.match(undefined, now)).toEqual({ kind: 'none' })
    const other = { ...valid, raw: Buffer.from('another certificate') }
    expect(table.match(other, now)).toMatchObject({ kind: 'unknown' })
  })

  it('does not accept a pinned certificate outside its validity period, or without one', () => {
    expect(table.match(valid, new Date('2027-01-02T00:00:00Z'))).toMatchObject({ kind: 'expired', peer })
    expect(table.match(valid, new Date('2025-12-31T00:00:00Z'))).toMatchObject({ kind: 'expired', peer })
    expect(table.match({ raw }, now)).toMatchObject({ kind: 'expired', peer })
  })

  it('falls back to Node\'s fingerprint256 when the raw bytes are missing', () => {
    expect(certificateFingerprint({ fingerprint256: displayFingerprint(fingerprint) })).toBe(fingerprint)
  })
})
