// Unit tests for the strict Content-Type reader and for the replica of how
// Haraka's parser reads the same value (the two must differ exactly where
// Haraka's reading is wrong).
import { describe, expect, it } from 'vitest'

import { harakaBoundary, harakaSplits, parseContentType, strictBoundary, type StrictContentType } from './content-type'

const params = (ct: StrictContentType | undefined) => (ct ? Object.fromEntries(ct.params) : undefined)

describe('parseContentType (RFC 2045)', () => {
  it('reads type, tokens and quoted strings (with escapes), comments and folds', () => {
    const ct = parseContentType('Multipart/Mixed (a comment (nested)) ;\n\tBoundary="a \\"b\\" c"; charset=utf-8;\n')
    expect(ct?.type).toBe('multipart/mixed')
    expect(params(ct)).toEqual({ boundary: ['a "b" c'], charset: ['utf-8'] })
  })

  it('takes an unquoted value up to the next ";" as readers do, tspecials included', () => {
    expect(params(parseContentType('multipart/alternative; boundary=----=_NextPart_000_0012_01D5.1A2B'))).toEqual({ boundary: ['----=_NextPart_000_0012_01D5.1A2B'] })
  })

  it('ignores empty parameters and a trailing semicolon, keeps repeated and RFC 2231 ones apart', () => {
    expect(params(parseContentType('text/plain;; charset=us-ascii;'))).toEqual({ charset: ['us-ascii'] })
    expect(params(parseContentType('multipart/mixed; boundary=a; BOUNDARY=b; boundary*0=c'))).toEqual({ boundary: ['a', 'b'], 'boundary*0': ['c'] })
  })

  it.each([
    ['no subtype', 'multipart'],
    ['an RFC 2047 encoded type', '=?us-ascii?q?multipart/mixed?=; boundary=x'],
    ['a missing semicolon', 'multipart/mixed boundary=x'],
    ['an unclosed quoted string', 'multipart/mixed; boundary="x'],
    ['an unclosed comment', 'multipart/mixed (oops; boundary=x'],
    ['a parameter without value', 'multipart/mixed; boundary'],
    ['a comment before the type that never closes', '(multipart/mixed'],
  ])('refuses %s', (_what, raw) => {
    expect(parseContentType(raw)).toBeUndefined()
  })
})

describe('strictBoundary', () => {
  const of = (raw: string) => strictBoundary(parseContentType(raw)!)

  it('is the one boundary parameter, whatever other parameters contain', () => {
    expect(of('multipart/mixed; xboundary="fake"; boundary="real"')).toEqual({ boundary: 'real' })
    expect(of('multipart/mixed; name="a;boundary=fake"; boundary=real')).toEqual({ boundary: 'real' })
  })

  it.each([
    ['multipart/mixed', 'multipart without boundary'],
    ['multipart/mixed; boundary=""', 'empty boundary'],
    ['multipart/mixed; boundary=a; boundary=b', 'boundary parameter given more than once'],
    ["multipart/mixed; boundary*=us-ascii''b", 'boundary parameter in RFC 2231 form'],
  ])('has none for %j', (raw, problem) => {
    expect(of(raw)).toEqual({ problem })
  })
})

describe("Haraka's reading (haraka-email-message body.js)", () => {
  it('takes the first "boundary=" anywhere in the value: the wrong one when a parameter name ends in it', () => {
    expect(harakaBoundary('multipart/mixed; xboundary="fake"; boundary="real"')).toBe('fake')
    expect(harakaBoundary('multipart/mixed; boundary="real"')).toBe('real')
    expect(harakaBoundary('multipart/mixed; boundary=real ; charset=x')).toBe('real')
    expect(harakaBoundary('multipart/mixed')).toBe('')
  })

  it('splits multipart types, and reads text and message types as text unless they are attachments', () => {
    expect(harakaSplits('multipart/mixed; boundary=x', '')).toBe(true)
    expect(harakaSplits('MULTIPART/related; boundary=x', 'attachment')).toBe(true)
    expect(harakaSplits('(c) multipart/mixed; boundary=x', '')).toBe(false)
    expect(harakaSplits('', '')).toBe(false)
    expect(harakaSplits('message/rfc822', '')).toBe(false)
  })
})
