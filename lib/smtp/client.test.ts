// Unit tests for parseReply of the SMTP client: single and multi-line replies, with and without enhanced codes.
import { describe, expect, it } from 'vitest'

import { base64, parseReply } from './client'

describe('parseReply', () => {
  it('parses a single-line reply with an enhanced code', () => {
    expect(parseReply(['550 5.7.1 Relaying denied'])).toEqual({
      code: 550,
      enhanced: '5.7.1',
      text: '5.7.1 Relaying denied',
      lines: ['5.7.1 Relaying denied'],
    })
  })

  it('parses a reply without an enhanced code', () => {
    expect(parseReply(['220 mx.example ESMTP ready'])).toEqual({
      code: 220,
      enhanced: '',
      text: 'mx.example ESMTP ready',
      lines: ['mx.example ESMTP ready'],
    })
  })

  it('parses a multi-line reply (EHLO), joining the texts with newlines', () => {
    const r = parseReply(['250-mx.example Hello', '250-PIPELINING', '250-SIZE 10485760', '250 STARTTLS'])
    expect(r.code).toBe(250)
    expect(r.enhanced).toBe('')
    expect(r.lines).toEqual(['mx.example Hello', 'PIPELINING', 'SIZE 10485760', 'STARTTLS'])
    expect(r.text).toBe('mx.example Hello\nPIPELINING\nSIZE 10485760\nSTARTTLS')
  })

  it('takes the enhanced code from the first line of a multi-line reply', () => {
    const r = parseReply(['451-4.3.0 Temporary problem', '451 4.3.0 please try again later'])
    expect(r.code).toBe(451)
    expect(r.enhanced).toBe('4.3.0')
    expect(r.text).toBe('4.3.0 Temporary problem\n4.3.0 please try again later')
  })

  it('takes the basic code from the last line', () => {
    expect(parseReply(['250-first', '251 last']).code).toBe(251)
  })

  it('accepts an enhanced code with nothing after it', () => {
    expect(parseReply(['250 2.0.0']).enhanced).toBe('2.0.0')
  })

  it('handles a bare code with no text', () => {
    expect(parseReply(['354'])).toEqual({ code: 354, enhanced: '', text: '', lines: [''] })
  })

  it.each([
    ['250 2.0.0x OK', ''],
    ['250 3.0.0 OK', ''],
    ['250 2.0 OK', ''],
    ['250 2.1234.0 OK', ''],
    ['250 x 2.0.0 OK', ''],
    ['250 5.1.10 OK', '5.1.10'],
  ])('in %j, finds enhanced code %j', (line, enhanced) => {
    expect(parseReply([line]).enhanced).toBe(enhanced)
  })
})

describe('base64', () => {
  it('encodes UTF-8 text', () => {
    expect(base64('\0alice\0pw')).toBe('AGFsaWNlAHB3')
    expect(base64('é')).toBe('w6k=')
  })
})
