// Unit test of gateway-dmarc (inbound; after spf and dkim): SPF fail/softfail at MAIL
// and DKIM failures at data_post become decisions with their own replies (550 5.7.23,
// 550 5.7.20), DMARC is evaluated for the From domain and the published policy chooses
// the action (p=reject: 550 5.7.1; p=quarantine; p=none: tag), and forged
// Authentication-Results claiming our authserv-id are deleted. DNS is never queried:
// dns.promises.resolveTxt (what the plugin's TXT resolver calls) is replaced by a
// fixed table of DMARC records for the tests that evaluate a policy.

import dns from 'node:dns'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { DKIM_RESULTS } from '../../lib/plugin/haraka-notes'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import plugin from './plugin'

const DMARC_RECORDS = new Map<string, string>([
  ['_dmarc.strict.test', 'v=DMARC1; p=reject'],
  ['_dmarc.careful.test', 'v=DMARC1; p=quarantine'],
  ['_dmarc.watching.test', 'v=DMARC1; p=none'],
])

/** The DNS as the tests see it: the table above, NXDOMAIN for any other name, SERVFAIL for broken.test. */
function fixedDns() {
  return vi.spyOn(dns.promises, 'resolveTxt').mockImplementation(async (name: string) => {
    if (name.endsWith('broken.test')) throw Object.assign(new Error(`queryTxt ESERVFAIL ${name}`), { code: 'ESERVFAIL' })
    const record = DMARC_RECORDS.get(name)
    if (record === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
    return [[record]]
  })
}

/** A transaction on which haraka-plugin-spf recorded `spf` for the MAIL FROM domain. */
function session(opts: { from: string; headers?: string[]; spf?: string; dkim?: { result: string; domain: string }[] }) {
  const c = fakeConnection({ ip: '203.0.113.9' })
  const txn = fakeTransaction(c, { from: opts.from, to: ['ceo@example.com'], headers: opts.headers ?? [] })
  const domain = opts.from.split('@')[1]!
  if (opts.spf) txn.results.add('spf', { scope: 'mfrom', result: opts.spf, domain })
  if (opts.dkim) DKIM_RESULTS.set(txn, opts.dkim.map((s) => ({ ...s, selector: 's1' })))
  return { c, txn }
}

describe('gateway-dmarc', () => {
  afterEach(() => vi.restoreAllMocks())

  it('registers mail and data_post', () => {
    expect(pluginHarness(plugin).hooks).toEqual(['mail', 'data_post'])
  })

  describe('SPF at MAIL', () => {
    it('fail is tagged by default: recorded for the message, the mail continues', async () => {
      const h = pluginHarness(plugin)
      const { c, txn } = session({ from: 'a@sender.test', spf: 'fail' })
      expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'CONT' })
      expect(c.log).toEqual(['NOTICE [gateway-dmarc] decision check=spf result=fail action=tag detail="sender.test does not authorize 203.0.113.9"'])
      expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'spf', result: 'fail', action: 'tag' })])
    })

    it('fail with action reject answers 550 5.7.23', async () => {
      const h = pluginHarness(plugin, { ini: '[spf]\nfail_action=reject\n' })
      const { c, txn } = session({ from: 'a@sender.test', spf: 'fail' })
      expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'DENY', reply: '550 5.7.23 Sender address not authorized for this client (SPF)' })
      expect(txn.results.get('gateway-dmarc')).toEqual({ fail: ['fail:reject'] })
    })

    it('softfail is only monitored by default; pass, neutral and no SPF result record nothing', async () => {
      const h = pluginHarness(plugin)
      const soft = session({ from: 'a@sender.test', spf: 'softfail' })
      expect(await h.run('mail', soft.c, [soft.txn.mail_from, {}])).toEqual({ result: 'CONT' })
      expect(decisionsOf(soft.c)).toEqual([expect.objectContaining({ check: 'spf', result: 'softfail', action: 'monitor' })])
      for (const spf of ['pass', 'neutral', undefined]) {
        const { c, txn } = session({ from: 'a@sender.test', ...(spf ? { spf } : {}) })
        expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'CONT' })
        expect(c.log).toEqual([])
      }
    })
  })

  describe('data_post', () => {
    it('refuses From domains publishing p=reject that fail DMARC with 550 5.7.1', async () => {
      fixedDns()
      const h = pluginHarness(plugin)
      const { c, txn } = session({ from: 'bounce@elsewhere.test', spf: 'pass', headers: ['From: Boss <boss@strict.test>'] })
      expect(await h.run('data_post', c)).toEqual({ result: 'DENY', reply: '550 5.7.1 Message rejected by the sender domain policy (DMARC)' })
      expect(c.log).toContain('INFO [gateway-dmarc] dmarc=fail domain=strict.test policy=reject')
      expect(c.log).toContainEqual(expect.stringMatching(/^NOTICE \[gateway-dmarc\] decision check=dmarc result=fail_p_reject action=reject detail="strict\.test: no aligned SPF or DKIM pass/))
      expect(txn.results.get('gateway-dmarc')).toMatchObject({ result: 'fail', domain: 'strict.test', policy: 'reject' })
    })

    it('p=quarantine quarantines and p=none tags: both continue and are recorded', async () => {
      fixedDns()
      const h = pluginHarness(plugin)
      for (const [domain, action] of [['careful.test', 'quarantine'], ['watching.test', 'tag']] as const) {
        const { c } = session({ from: 'x@elsewhere.test', spf: 'pass', headers: [`From: someone@${domain}`] })
        expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
        expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'dmarc', result: `fail_p_${domain === 'careful.test' ? 'quarantine' : 'none'}`, action })])
      }
    })

    it('passes a From domain aligned with the SPF domain', async () => {
      fixedDns()
      const h = pluginHarness(plugin)
      const { c, txn } = session({ from: 'bounce@strict.test', spf: 'pass', headers: ['From: boss@strict.test'] })
      expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
      expect(decisionsOf(c)).toEqual([])
      expect(txn.results.get('gateway-dmarc')).toMatchObject({ result: 'pass', domain: 'strict.test' })
    })

    it('a DNS failure for the DMARC record is a temperror, tagged by default', async () => {
      fixedDns()
      const h = pluginHarness(plugin)
      const { c } = session({ from: 'x@broken.test', spf: 'pass', headers: ['From: x@broken.test'] })
      expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
      expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'dmarc', result: 'temperror', action: 'tag' })])
    })

    it('without a From address no DNS is asked; a failed DKIM signature alone is a decision (550 5.7.20 when rejected)', async () => {
      const lookups = fixedDns()
      const h = pluginHarness(plugin, { ini: '[dkim]\nfail_action=reject\n' })
      const { c, txn } = session({ from: 'a@sender.test', dkim: [{ result: 'fail', domain: 'Sender.test' }] })
      expect(await h.run('data_post', c)).toEqual({ result: 'DENY', reply: '550 5.7.20 No valid DKIM signature found' })
      expect(lookups).not.toHaveBeenCalled()
      expect(c.log).toContain('NOTICE [gateway-dmarc] decision check=dkim result=fail action=reject detail="signature of sender.test does not verify"')
      expect(txn.results.get('gateway-dmarc')).toMatchObject({ result: 'none', domain: '' })
    })

    it('one passing DKIM signature outweighs a broken one', async () => {
      fixedDns()
      const h = pluginHarness(plugin, { ini: '[dkim]\nfail_action=reject\n' })
      const { c } = session({ from: 'a@sender.test', dkim: [{ result: 'fail', domain: 'sender.test' }, { result: 'pass', domain: 'relay.test' }] })
      expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
      expect(decisionsOf(c)).toEqual([])
    })

    it('deletes Authentication-Results forged with our authserv-id, keeps others', async () => {
      fixedDns()
      const h = pluginHarness(plugin)
      const { c, txn } = session({
        from: 'a@sender.test',
        headers: ['Authentication-Results: mx.example.com; dmarc=pass header.from=strict.test', 'Authentication-Results: mx.other.test; spf=pass', 'Subject: hi'],
      })
      expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
      expect(txn.header.get_all('Authentication-Results')).toEqual(['mx.other.test; spf=pass'])
      expect(c.log).toContain('NOTICE [gateway-dmarc] deleted 1 Authentication-Results field(s) forged with our authserv-id or in obsolete syntax')
      expect(txn.results.get('gateway-dmarc')).toMatchObject({ msg: ['forged_auth_results:1'] })
    })
  })

  it('refuses bad settings with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[dmarc]\np_reject_action=drop\n' })).toThrow(/gateway-dmarc\.ini:2: \[dmarc\] p_reject_action: /)
    expect(() => pluginHarness(plugin, { ini: '[dmarc]\ndns_timeout_ms=50\n' })).toThrow(/gateway-dmarc\.ini:2: \[dmarc\] dns_timeout_ms: /)
    expect(() => pluginHarness(plugin, { ini: '[__proto__]\nx=1\n' })).toThrow(/gateway-dmarc\.ini:2: \[__proto__\]: unknown section/)
  })

  it('runs in the inbound instance only, after spf and dkim', () => {
    expect(declarationOf(plugin)).toMatchObject({ order: { after: { spf: expect.any(String), dkim: expect.any(String) } } })
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toBe('runs in the inbound instance only: remove it from the outbound instance')
  })
})
