// Unit tests for the per-session error count: protocol error codes count, policy
// refusals do not, junk commands count once past their allowance, delivering a
// message starts afresh, and a line is only ever looked at for its verb.
import { describe, expect, it } from 'vitest'

import { SessionErrors, verbOf } from './session-errors'

describe('SessionErrors', () => {
  it('ends the session at the error after max (500-504 and 555 count; 550, 535, 4xx do not)', () => {
    const e = new SessionErrors({ maxErrors: 3, junkCommands: 100 })
    expect([550, 535, 451, 554, 250, 334].map((c) => e.reply(c))).toEqual([false, false, false, false, false, false])
    expect([500, 503, 555].map((c) => e.reply(c))).toEqual([false, false, false])
    expect(e.reply(501)).toBe(true)
  })

  it('counts junk commands past the allowance as errors, whatever their reply', () => {
    const e = new SessionErrors({ maxErrors: 1, junkCommands: 2 })
    const send = (line: string) => (e.command(line), e.reply(250))
    expect([send('NOOP'), send('rset'), send('EHLO x'), send('NOOP')]).toEqual([false, false, false, false])
    expect(e.count).toBe(1)
    expect(send('VRFY bob')).toBe(true)
  })

  it('starts afresh after a delivered message', () => {
    const e = new SessionErrors({ maxErrors: 1, junkCommands: 0 })
    expect(e.reply(500)).toBe(false)
    e.delivered()
    expect(e.reply(500)).toBe(false)
    expect(e.reply(500)).toBe(true)
  })

  it('never limits with max 0', () => {
    const e = new SessionErrors({ maxErrors: 0, junkCommands: 0 })
    for (let i = 0; i < 100; i++) expect(e.reply(500)).toBe(false)
  })

  it('reads only a command verb (a base64 SASL line is none)', () => {
    expect(verbOf('noop')).toBe('NOOP')
    expect(verbOf('RSET\r\n')).toBe('RSET')
    expect(verbOf('dXNlcg==')).toBe('')
    expect(verbOf('NOOPS')).toBe('')
  })
})
