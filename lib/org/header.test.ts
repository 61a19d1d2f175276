// Unit tests of the X-Gateway-Org format: what is written parses back exactly,
// the signature covers every field and the Message-ID, parsing is strict and
// never throws, and verification names why a header is not believed.

import crypto from 'node:crypto'

import { describe, expect, it } from 'vitest'

import {
  canonicalText,
  decodeToken,
  encodeToken,
  formatOrgHeader,
  messageIdDigest,
  parseOrgHeader,
  verifyOrgHeader,
  type KeyLookup,
  type OrgFields,
  type SigningKey,
} from './header'

const KEY: SigningKey = { id: 'kTestKey01', secret: Buffer.alloc(32, 7) }
const OTHER: SigningKey = { id: 'kOtherKey1', secret: Buffer.alloc(32, 9) }
const MID = ['<abc.123@sender.test>']
const NOW = 1_780_000_000_000
const T = Math.floor(NOW / 1000)

const FIELDS: Omit<OrgFields, 'kid'> = {
  id: '5F2C8A1E-77B0-4C3D-9E21-0A1B2C3D4E5F.1',
  node: 'gw-a.example',
  t: T,
  mid: messageIdDigest(MID),
  scl: 3,
  auth: [
    { method: 'spf', result: 'pass' },
    { method: 'dkim', result: 'pass' },
    { method: 'dmarc', result: 'fail' },
  ],
  checks: [
    { check: 'dmarc', result: 'fail_p_none', action: 'tag' },
    { check: 'virus', result: 'clean', action: 'accept' },
  ],
}

const keyFor =
  (...keys: SigningKey[]) =>
  (kid: string): KeyLookup => {
    const k = keys.find((x) => x.id === kid)
    return k ? { state: 'valid', secret: k.secret } : { state: 'unknown' }
  }

const opts = (over: Partial<Parameters<typeof verifyOrgHeader>[1]> = {}) => ({ messageIds: MID, keyFor: keyFor(KEY), now: NOW, maxAgeSeconds: 3600, ...over })

describe('X-Gateway-Org format', () => {
  it('writes one line in the documented order, signed over the canonical text', () => {
    const value = formatOrgHeader(FIELDS, KEY)
    expect(value).toMatch(/^v=1; kid=kTestKey01; id=5F2C8A1E-77B0-4C3D-9E21-0A1B2C3D4E5F\.1; node=gw-a\.example; t=\d+; mid=[\w-]{22}; scl=3; auth=spf:pass,dkim:pass,dmarc:fail; checks=dmarc:fail_p_none:tag,virus:clean:accept; sig=[\w-]{43}$/)
    // an internal server can check it with nothing but the documented rule
    const [signed, sig] = value.split('; sig=') as [string, string]
    const expected = crypto.createHmac('sha256', KEY.secret).update(signed.replace(/; /g, ';')).digest('base64url')
    expect(sig).toBe(expected)
    expect(signed.replace(/; /g, ';')).toBe(canonicalText({ ...FIELDS, kid: KEY.id }))
  })

  it('parses what it wrote back exactly, also folded as a relay may fold it', () => {
    const value = formatOrgHeader(FIELDS, KEY)
    const parsed = parseOrgHeader(value)
    expect(parsed).toMatchObject({ ok: true, fields: { ...FIELDS, kid: KEY.id } })
    const folded = value.replace(/; (checks|sig)=/g, ';\r\n\t$1=')
    expect(parseOrgHeader(folded)).toEqual(parsed)
    expect(verifyOrgHeader(folded, opts())).toEqual({ ok: true, fields: { ...FIELDS, kid: KEY.id } })
  })

  it('escapes anything outside the safe charset, one spelling only', () => {
    const odd = { check: 'we;ird=,check:ü', result: 'a b\r\nX-Evil: 1', action: '%41' }
    const value = formatOrgHeader({ ...FIELDS, node: 'nödé', checks: [odd] }, KEY)
    expect(value).not.toMatch(/[\r\n]|X-Evil: |ü/)
    const parsed = parseOrgHeader(value)
    expect(parsed.ok && parsed.fields.checks).toEqual([odd])
    expect(parsed.ok && parsed.fields.node).toBe('nödé')
    expect(encodeToken('A')).toBe('A')
    expect(decodeToken('%41')).toBeUndefined() // "A" written the long way
    expect(decodeToken('%c3%bc')).toBeUndefined() // lower-case hex
    expect(decodeToken('%FF')).toBeUndefined() // not UTF-8
    expect(decodeToken('%C3%BC')).toBe('ü')
  })

  it('prototype names are plain strings', () => {
    const checks = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty'].map((n) => ({ check: n, result: n, action: 'monitor' }))
    const value = formatOrgHeader({ ...FIELDS, checks }, KEY)
    const v = verifyOrgHeader(value, opts())
    expect(v.ok && v.fields.checks).toEqual(checks)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses to write what it could not read back', () => {
    expect(() => formatOrgHeader({ ...FIELDS, scl: 10 }, KEY)).toThrow(/scl/)
    expect(() => formatOrgHeader({ ...FIELDS, node: '' }, KEY)).toThrow(/empty/)
    expect(() => formatOrgHeader(FIELDS, { id: 'bad id', secret: KEY.secret })).toThrow(/key id/)
    expect(() => formatOrgHeader({ ...FIELDS, checks: Array.from({ length: 65 }, () => FIELDS.checks[0]!) }, KEY)).toThrow(/64/)
  })
})

describe('parsing is strict and total', () => {
  const good = formatOrgHeader(FIELDS, KEY)
  const cases: [string, string][] = [
    ['empty', ''],
    ['garbage', 'hello world'],
    ['missing field', good.replace(/; scl=3/, '')],
    ['fields out of order', good.replace('kid=kTestKey01; id=', 'id=').replace('; node=', '; kid=kTestKey01; node=')],
    ['field twice', good.replace('; scl=3', '; scl=3; scl=3')],
    ['unknown version', good.replace('v=1', 'v=2')],
    ['blank in a value', good.replace('node=gw-a.example', 'node=gw a.example')],
    ['bad scl', good.replace('scl=3', 'scl=10')],
    ['auth method twice', good.replace('auth=spf:pass', 'auth=spf:pass,spf:fail')],
    ['unknown auth method', good.replace('auth=spf:pass', 'auth=arc:pass')],
    ['checks entry with 2 parts', good.replace('virus:clean:accept', 'virus:clean')],
    ['short sig', good.replace(/sig=[\w-]{43}/, 'sig=abc')],
    ['padded sig', good.replace(/sig=([\w-]{43})/, 'sig=$1=')],
    ['t with leading zero', good.replace(/t=(\d+)/, 't=0$1')],
    ['a bare line break', good.replace('; checks', ';\nchecks')],
    ['huge', 'v=1; '.repeat(5000)],
  ]
  it.each(cases)('%s: malformed, no exception', (_name, value) => {
    expect(() => parseOrgHeader(value)).not.toThrow()
    expect(parseOrgHeader(value).ok).toBe(false)
    const v = verifyOrgHeader(value, opts())
    expect(v.ok ? 'ok' : v.failure).toBe('malformed')
  })

  it('survives random mutations of a good header without throwing', () => {
    const chars = 'v=1;,:%-_. \t\r\nAZaz09ü'
    for (let i = 0; i < 2000; i++) {
      const arr = [...good]
      const pos = crypto.randomInt(arr.length)
      arr.splice(pos, crypto.randomInt(3), chars[crypto.randomInt(chars.length)]!)
      expect(() => verifyOrgHeader(arr.join(''), opts())).not.toThrow()
    }
  })
})

describe('verification', () => {
  const good = formatOrgHeader(FIELDS, KEY)
  const failure = (value: string, over: Partial<Parameters<typeof verifyOrgHeader>[1]> = {}) => {
    const v = verifyOrgHeader(value, opts(over))
    return v.ok ? 'ok' : v.failure
  }

  it('accepts a fresh header of a known key for its own Message-ID', () => {
    expect(failure(good)).toBe('ok')
    // white space in the Message-ID does not matter (relays may refold it)
    expect(failure(good, { messageIds: [' <abc.123@sender.test>\r\n'] })).toBe('ok')
  })

  it('names each reason not to believe a header', () => {
    expect(failure(good.replace('scl=3', 'scl=0'))).toBe('bad_signature')
    expect(failure(good.replace('dmarc:fail;', 'dmarc:pass;'))).toBe('bad_signature')
    expect(failure(formatOrgHeader(FIELDS, OTHER))).toBe('unknown_key')
    expect(failure(good, { keyFor: () => ({ state: 'retired', retiredAt: NOW - 1000 }) })).toBe('retired_key')
    expect(failure(good, { messageIds: ['<other@sender.test>'] })).toBe('message_id_mismatch')
    expect(failure(good, { messageIds: [] })).toBe('message_id_mismatch')
    expect(failure(good, { now: NOW + 3601_000 })).toBe('stale')
    expect(failure(good, { now: NOW + 3600_000 })).toBe('ok')
    expect(failure(good, { now: NOW - 301_000 })).toBe('future_timestamp')
    expect(failure(good, { now: NOW - 300_000 })).toBe('ok')
    // a key that signs with the other's id: the signature, not the id, decides
    expect(failure(formatOrgHeader(FIELDS, { id: KEY.id, secret: OTHER.secret }))).toBe('bad_signature')
  })

  it('a changed signature byte is refused', () => {
    const sig = good.slice(-43)
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
    expect(failure(good.slice(0, -43) + flipped)).toBe('bad_signature')
  })
})
