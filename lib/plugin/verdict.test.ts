// Unit tests for hook verdicts: acceptAndStop, reject (5xx), tempfail (4xx), deny (either, from a Reply), and the queue verdicts.
import { describe, expect, it } from 'vitest'

import { acceptAndStop, CONT, delay, deny, DROP, reject, tempfail } from './verdict'
import { REPLIES, reply } from '../smtp/reply'

describe('acceptAndStop', () => {
  it('has no value unless one is given', () => {
    expect(acceptAndStop()).toEqual({ kind: 'acceptAndStop' })
    expect('value' in acceptAndStop()).toBe(false)
    expect(acceptAndStop(['mx1'])).toEqual({ kind: 'acceptAndStop', value: ['mx1'] })
    expect(acceptAndStop(0)).toEqual({ kind: 'acceptAndStop', value: 0 })
  })
})

describe('reject', () => {
  it('builds a permanent rejection, not disconnecting by default', () => {
    expect(reject(550, '5.7.1', 'No')).toEqual({ kind: 'reject', reply: { code: 550, enhanced: '5.7.1', text: 'No' }, disconnect: false })
    expect(reject(554, '5.7.0', 'Go away', { disconnect: true })).toMatchObject({ kind: 'reject', disconnect: true })
  })

  it('throws for a 4xx (or lower) code', () => {
    expect(() => reject(450, '4.7.1', 'x')).toThrow('reject() needs a 5xx code, got 450')
    expect(() => reject(250, '2.0.0', 'x')).toThrow('reject() needs a 5xx code, got 250')
  })

  it('throws when the enhanced code does not match', () => {
    expect(() => reject(550, '4.7.1', 'x')).toThrow('inconsistent SMTP reply 550 4.7.1')
    expect(() => reject(600, '5.0.0', 'x')).toThrow('inconsistent SMTP reply 600 5.0.0')
  })
})

describe('tempfail', () => {
  it('builds a temporary failure, not disconnecting by default', () => {
    expect(tempfail(451, '4.3.0', 'Later')).toEqual({ kind: 'tempfail', reply: { code: 451, enhanced: '4.3.0', text: 'Later' }, disconnect: false })
    expect(tempfail(421, '4.7.0', 'Bye', { disconnect: true })).toMatchObject({ kind: 'tempfail', disconnect: true })
  })

  it('throws for a code outside 4xx', () => {
    expect(() => tempfail(550, '5.7.1', 'x')).toThrow('tempfail() needs a 4xx code, got 550')
    expect(() => tempfail(354, '3.0.0', 'x')).toThrow('tempfail() needs a 4xx code, got 354')
  })

  it('throws when the enhanced code does not match', () => {
    expect(() => tempfail(451, '5.3.0', 'x')).toThrow('inconsistent SMTP reply 451 5.3.0')
  })
})

describe('deny', () => {
  it('turns a 5xx Reply into a reject', () => {
    expect(deny(REPLIES.relayDenied)).toEqual({ kind: 'reject', reply: REPLIES.relayDenied, disconnect: false })
  })

  it('turns a 4xx Reply into a tempfail', () => {
    expect(deny(REPLIES.localError, { disconnect: true })).toEqual({ kind: 'tempfail', reply: REPLIES.localError, disconnect: true })
  })

  it('refuses a 2xx Reply (it is not a denial)', () => {
    expect(() => deny(reply(250, '2.0.0', 'OK'))).toThrow('tempfail() needs a 4xx code, got 250')
  })
})

describe('queue verdicts', () => {
  it('cont and drop are constants; delay rounds up to whole seconds, at least one', () => {
    expect(CONT).toEqual({ kind: 'cont' })
    expect(DROP).toEqual({ kind: 'drop' })
    expect(delay(0)).toEqual({ kind: 'delay', seconds: 1 })
    expect(delay(59.2)).toEqual({ kind: 'delay', seconds: 60 })
  })
})
