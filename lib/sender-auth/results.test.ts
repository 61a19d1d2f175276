import { describe, expect, it } from 'vitest'

import { alignedPass, authSummary, type AuthSummary } from './results'

/** The parts of a Haraka connection authSummary reads, filled as the plugins fill them. */
function conn(opts: { txn?: Record<string, Record<string, unknown>>; conn?: Record<string, Record<string, unknown>>; nullSender?: boolean; dkim?: unknown[] }) {
  const store = (m: Record<string, Record<string, unknown>> = {}) => ({ get: (p: string) => (Object.hasOwn(m, p) ? m[p] : undefined) })
  return {
    results: store(opts.conn),
    transaction: {
      results: store(opts.txn),
      notes: opts.dkim ? { dkim_results: opts.dkim } : {},
      mail_from: { isNull: () => opts.nullSender ?? false },
    },
  } as unknown as Haraka.Connection
}

describe('authSummary', () => {
  it('reads SPF for MAIL FROM, DKIM per signature and DMARC', () => {
    const c = conn({
      txn: { spf: { scope: 'mfrom', result: 'SoftFail', domain: 'Sender.TEST' }, 'gateway-dmarc': { result: 'fail', domain: 'sender.test', policy: 'reject', fail: ['x'] } },
      dkim: [
        { result: 'pass', domain: 'Sender.test', selector: 's1', identity: '@sender.test' },
        { result: 'invalid', domain: 'x.test', selector: 's2' },
        { result: 'tempfail', domain: 'y.test', selector: 's3' },
      ],
    })
    expect(authSummary(c)).toEqual({
      spf: { result: 'softfail', domain: 'sender.test' },
      dkim: [
        { result: 'pass', domain: 'sender.test', selector: 's1' },
        { result: 'permerror', domain: 'x.test', selector: 's2' },
        { result: 'temperror', domain: 'y.test', selector: 's3' },
      ],
      dmarc: { result: 'fail', domain: 'sender.test', policy: 'reject' },
    })
  })

  it('uses the HELO result for the null sender only', () => {
    const helo = { spf: { scope: 'helo', result: 'Pass', domain: 'mta.sender.test' } }
    expect(authSummary(conn({ conn: helo, nullSender: true })).spf).toEqual({ result: 'pass', domain: 'mta.sender.test' })
    expect(authSummary(conn({ conn: helo, nullSender: false })).spf).toBeUndefined()
  })

  it('is empty before the checks ran', () => {
    expect(authSummary(conn({}))).toEqual({ dkim: [] })
  })
})

describe('alignedPass', () => {
  const summary: AuthSummary = {
    spf: { result: 'pass', domain: 'bounces.sender.test' },
    dkim: [
      { result: 'fail', domain: 'other.test' },
      { result: 'pass', domain: 'signer.example.co.uk' },
    ],
  }

  it('is true for the organizational domain of a passing identity', () => {
    expect(alignedPass(summary, 'sender.test')).toBe(true)
    expect(alignedPass(summary, 'News.Sender.Test')).toBe(true)
    expect(alignedPass(summary, 'example.co.uk')).toBe(true)
  })

  it('is false for failing identities, other organizations and junk', () => {
    expect(alignedPass(summary, 'other.test')).toBe(false)
    expect(alignedPass(summary, 'co.uk')).toBe(false)
    expect(alignedPass(summary, 'evil-example.co.uk')).toBe(false)
    expect(alignedPass(summary, '')).toBe(false)
    expect(alignedPass({ dkim: [], spf: { result: 'softfail', domain: 'sender.test' } }, 'sender.test')).toBe(false)
  })
})
