// Unit test of gateway-recipients (inbound, rcpt): unknown recipients of a listed
// domain get 550 5.1.1, routing syntax 550 5.1.3, internal-only addresses 550 5.7.1
// (each through decide(): log line, results, X-Gateway-Checks on trial); known,
// sub-addressed and catch-all recipients, unlisted domains and domains that are not
// ours continue. The directory harvest counter needs Redis (it connects at setup),
// so every test here runs with [harvest] enabled=false: the harvest slow-down and
// cut-off are covered by the integration tests, not here.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeConnection, fakeTransaction, pluginHarness, testGatewayConfig } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import plugin from './plugin'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-recipients-test-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
// the list is read relative to the instance's config folder ($HARAKA/config), as in production
fs.mkdirSync(path.join(dir, 'config'))
const list = path.join(dir, 'config', 'valid_recipients')
fs.writeFileSync(list, '# valid recipients\nalice@example.com\nBob@Example.com\nall-staff@example.com\n*@catchall.example\n')

const gateway = testGatewayConfig({ acceptedDomains: ['example.com', 'catchall.example', 'unlisted.example'] })
const INI = `[internal_only]\naddresses[]=all-staff@example.com\n[harvest]\nenabled=false\n`

async function rcpt(ini: string, to: string) {
  const h = pluginHarness(plugin, { ini, gateway })
  const c = fakeConnection()
  const txn = fakeTransaction(c, { from: 'someone@sender.test', to: [to] })
  return { answer: await h.run('rcpt', c, [txn.rcpt_to[0], {}]), c, txn, h }
}

describe('gateway-recipients', () => {
  beforeEach(() => vi.stubEnv('HARAKA', dir))
  afterAll(() => vi.unstubAllEnvs())

  it('registers only rcpt when the harvest counter is off', () => {
    expect(pluginHarness(plugin, { ini: INI, gateway }).hooks).toEqual(['rcpt'])
  })

  it('lets known recipients through: case folded, sub-addressed, catch-all', async () => {
    for (const to of ['alice@example.com', 'ALICE@example.COM', 'alice+news@example.com', 'bob@example.com', 'anyone@catchall.example']) {
      const { answer, c } = await rcpt(INI, to)
      expect(answer).toEqual({ result: 'CONT' })
      expect(c.log).toEqual([])
    }
  })

  it('leaves domains without a list, and domains that are not ours, to the next plugin', async () => {
    for (const to of ['whoever@unlisted.example', 'victim@elsewhere.test']) expect((await rcpt(INI, to)).answer).toEqual({ result: 'CONT' })
  })

  it('refuses an unknown recipient with 550 5.1.1 and records the decision', async () => {
    const { answer, c, txn } = await rcpt(INI, 'Nobody+tag@example.com')
    expect(answer).toEqual({ result: 'DENY', reply: '550 5.1.1 Recipient address rejected: User unknown' })
    expect(c.log).toEqual(['NOTICE [gateway-recipients] decision check=recipient result=unknown action=reject detail="nobody@example.com"'])
    expect(txn.results.get('gateway-recipients')).toEqual({ fail: ['unknown:reject'] })
  })

  it('prototype names are just unknown local parts', async () => {
    for (const local of ['constructor', '__proto__', 'toString']) {
      expect((await rcpt(INI, `${local}@example.com`)).answer).toEqual({ result: 'DENY', reply: '550 5.1.1 Recipient address rejected: User unknown' })
    }
  })

  it('refuses routing syntax with 550 5.1.3, even for a listed address', async () => {
    const { answer, c } = await rcpt(INI, 'all-staff%example.com@example.com')
    expect(answer).toEqual({ result: 'DENY', reply: '550 5.1.3 Recipient address rejected: Bad destination mailbox address syntax' })
    expect(c.log).toEqual([expect.stringContaining('decision check=recipient result=routing_syntax action=reject')])
  })

  it('refuses Internet mail to an internal-only address with 550 5.7.1 (also sub-addressed)', async () => {
    for (const to of ['all-staff@example.com', 'All-Staff+x@example.com']) {
      const { answer, c } = await rcpt(INI, to)
      expect(answer).toEqual({ result: 'DENY', reply: '550 5.7.1 Recipient address rejected: Access denied' })
      expect(c.log).toEqual(['NOTICE [gateway-recipients] decision check=recipient result=internal_only action=reject detail="all-staff@example.com"'])
    }
  })

  it('on trial (monitor) records the decision for the message and continues', async () => {
    const { answer, c } = await rcpt(`[main]\naction=monitor\n${INI}`, 'nobody@example.com')
    expect(answer).toEqual({ result: 'CONT' })
    expect(decisionsOf(c)).toEqual([{ check: 'recipient', result: 'unknown', action: 'monitor' }])
  })

  it('a tempfail action answers 451 4.7.1', async () => {
    const ini = `[internal_only]\naddresses[]=all-staff@example.com\naction=tempfail\n[harvest]\nenabled=false\n`
    const { answer } = await rcpt(ini, 'all-staff@example.com')
    expect(answer).toMatchObject({ result: 'DENYSOFT', reply: expect.stringMatching(/^451 4\.7\.1 /) })
  })

  it('refuses bad settings with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\naction=bounce\n[harvest]\nenabled=false\n', gateway })).toThrow(/gateway-recipients\.ini:2: \[main\] action: /)
    expect(() => pluginHarness(plugin, { ini: '[harvest]\nenabled=false\ndelay_ms=20000\n', gateway })).toThrow(/gateway-recipients\.ini:3: \[harvest\] delay_ms: /)
    expect(() => pluginHarness(plugin, { ini: '[constructor]\nx=1\n', gateway })).toThrow(/gateway-recipients\.ini:2: \[constructor\]: unknown section/)
  })

  it('runs in the inbound instance only, before gateway-accepted-domains', () => {
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toBe('runs in the inbound instance only: remove it from the outbound instance')
  })
})
