// Unit tests of what outbound makes of a verified header: the history kept on
// the transaction, and the history policy's findings.

import { describe, expect, it } from 'vitest'

import type { OrgDecision, OrgFields } from './header'
import { historyFindings, historyOf } from './history'
import { CHECKS_BUDGET, checksOf, sclOf } from './stamp-fields'
import { encodeToken, formatOrgHeader, messageIdDigest } from './header'

const base: OrgFields = { kid: 'kKey0001', id: 'REC.1', node: 'gw-a', t: 1_700_000_000, mid: 'A'.repeat(22), scl: null, auth: [], checks: [] }
const with_ = (checks: OrgDecision[], extra: Partial<OrgFields> = {}) => historyOf({ ...base, checks, ...extra })

describe('historyOf', () => {
  it('keeps record id, node, time in ms, checks in a null-prototype map (a check decided twice: both)', () => {
    const h = with_([
      { check: 'sender-spoofing', result: 'internal_domain_envelope', action: 'monitor' },
      { check: '__proto__', result: 'x', action: 'monitor' },
      { check: 'sender-spoofing', result: 'internal_domain_header', action: 'monitor' },
    ], { auth: [{ method: 'dmarc', result: 'fail' }] })
    expect(h).toMatchObject({ recordId: 'REC.1', node: 'gw-a', time: 1_700_000_000_000, keyId: 'kKey0001', scl: null })
    expect(h.checks['sender-spoofing']).toBe('internal_domain_envelope:monitor,internal_domain_header:monitor')
    expect(Object.getPrototypeOf(h.checks)).toBeNull()
    expect(Object.hasOwn(h.checks, '__proto__')).toBe(true)
    expect(h.auth.dmarc).toBe('fail')
    expect(h.decisions).toHaveLength(3)
  })
})

describe('historyFindings', () => {
  const findings = (h: ReturnType<typeof historyOf>, scl = 5) => historyFindings(h, scl).map((f) => f.finding)
  it('virus: any virus result but clean or unscanned', () => {
    expect(findings(with_([{ check: 'virus', result: 'infected', action: 'quarantine' }]))).toEqual(['virus'])
    expect(findings(with_([{ check: 'antivirus', result: 'Eicar-Signature', action: 'tag' }]))).toEqual(['virus'])
    expect(findings(with_([{ check: 'virus', result: 'clean', action: 'accept' }]))).toEqual([])
    expect(findings(with_([{ check: 'virus', result: 'unscanned', action: 'accept' }]))).toEqual([])
  })
  it('spam: SCL at or over the threshold, or the spam check acted', () => {
    expect(findings(with_([], { scl: 5 }))).toEqual(['spam'])
    expect(findings(with_([], { scl: 4 }))).toEqual([])
    expect(findings(with_([], { scl: 4 }), 4)).toEqual(['spam'])
    expect(findings(with_([{ check: 'spam', result: 'scl_3', action: 'tag' }], { scl: 3 }))).toEqual(['spam'])
    expect(findings(with_([{ check: 'spam', result: 'scl_3', action: 'accept' }], { scl: 3 }))).toEqual([])
  })
  it('dmarc_fail: the dmarc decision failed, or auth says dmarc=fail', () => {
    expect(findings(with_([{ check: 'dmarc', result: 'fail_p_none', action: 'tag' }]))).toEqual(['dmarc_fail'])
    expect(findings(with_([{ check: 'dmarc', result: 'temperror', action: 'tag' }]))).toEqual([])
    expect(findings(with_([], { auth: [{ method: 'dmarc', result: 'fail' }] }))).toEqual(['dmarc_fail'])
  })
  it('all three, in policy order', () => {
    const h = with_([
      { check: 'dmarc', result: 'fail_p_reject', action: 'monitor' },
      { check: 'virus', result: 'infected', action: 'monitor' },
    ], { scl: 9 })
    expect(findings(h)).toEqual(['virus', 'spam', 'dmarc_fail'])
  })
})

describe('sclOf (inbound)', () => {
  it('from the spam decision, else X-Gateway-SCL, else not scanned', () => {
    expect(sclOf([{ check: 'spam', result: 'scl_7', action: 'quarantine' }], '')).toBe(7)
    expect(sclOf([], ' 2 ')).toBe(2)
    expect(sclOf([], '')).toBeNull()
    expect(sclOf([], '12')).toBeNull()
  })
})

describe('checksOf (inbound)', () => {
  it('keeps the header one line under 998 characters, whatever the checks decided', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ check: `rule-${i}`, result: 'x'.repeat(300), action: i % 2 ? '' : 'monitor' }))
    const checks = checksOf(many)
    expect(checks.length).toBeGreaterThan(0)
    expect(checks.length).toBeLessThan(200)
    expect(checks.every((d) => d.result.length === 100 && d.action !== '')).toBe(true)
    expect(checks.map((d) => [d.check, d.result, d.action].map(encodeToken).join(':')).join(',').length).toBeLessThanOrEqual(CHECKS_BUDGET)
    const value = formatOrgHeader(
      { id: 'A'.repeat(60), node: 'n'.repeat(64), t: 1_700_000_000, mid: messageIdDigest(['<a@b>']), scl: 9, auth: [{ method: 'spf', result: 'permerror' }, { method: 'dkim', result: 'temperror' }, { method: 'dmarc', result: 'temperror' }], checks },
      { id: `k${'a'.repeat(40)}`, secret: Buffer.alloc(32) },
    )
    expect(`X-Gateway-Org: ${value}`.length).toBeLessThan(998)
  })
})
