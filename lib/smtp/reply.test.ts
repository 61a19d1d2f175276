// Unit tests for SMTP reply values: reply() consistency checks, formatReply and the shared REPLIES.
import { describe, expect, it } from 'vitest'

import { REPLIES, formatReply, reply } from './reply'

describe('reply', () => {
  it('builds a frozen reply', () => {
    const r = reply(550, '5.7.1', 'Relaying denied')
    expect(r).toEqual({ code: 550, enhanced: '5.7.1', text: 'Relaying denied' })
    expect(Object.isFrozen(r)).toBe(true)
  })

  it('accepts 2xx, 4xx and 5xx with the matching class', () => {
    expect(reply(250, '2.0.0', 'OK').code).toBe(250)
    expect(reply(451, '4.3.0', 'Try later').enhanced).toBe('4.3.0')
    expect(reply(554, '5.123.999', 'x').enhanced).toBe('5.123.999')
  })

  it('throws when the enhanced class does not match the code', () => {
    expect(() => reply(550, '4.7.1', 'x')).toThrow('inconsistent SMTP reply 550 4.7.1')
    expect(() => reply(450, '5.7.1', 'x')).toThrow('inconsistent SMTP reply 450 5.7.1')
    expect(() => reply(250, '5.0.0', 'x')).toThrow('inconsistent SMTP reply 250 5.0.0')
  })

  it.each(['3.0.0', '5.7', '5.7.1.2', '5.1234.1', '5.1.1234', 'x.y.z', '', ' 5.7.1'])('throws for the enhanced code %j', (enhanced) => {
    expect(() => reply(550, enhanced, 'x')).toThrow(`inconsistent SMTP reply 550 ${enhanced}`)
  })

  it.each([199, 600, 354.5, NaN, 354])('throws for the basic code %j', (code) => {
    expect(() => reply(code, '5.0.0', 'x')).toThrow('inconsistent SMTP reply')
  })
})

describe('formatReply', () => {
  it('is "code enhanced text"', () => {
    expect(formatReply(reply(550, '5.7.1', 'Relaying denied'))).toBe('550 5.7.1 Relaying denied')
  })
})

describe('REPLIES', () => {
  it('holds consistent, frozen shared replies', () => {
    expect(formatReply(REPLIES.localError)).toBe('451 4.3.0 Temporary local problem, please try again later')
    expect(formatReply(REPLIES.relayDenied)).toBe('550 5.7.1 Relaying denied')
    expect(formatReply(REPLIES.authRequired)).toBe('530 5.7.0 Authentication required')
    expect(Object.isFrozen(REPLIES)).toBe(true)
  })
})
