// Unit test of gateway-header-firewall (inbound, first at data_post): the gateway's
// own X-Gateway-* family and the configured names/prefixes are removed from Internet
// mail (also in the obsolete "Name : value" form), everything else is kept, what was
// stripped is logged and recorded, and the hook always continues. Settings errors
// name file, line and key; the plugin is inbound only and declares its place first.

import { describe, expect, it } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

async function filtered(ini: string | undefined, headers: string[]) {
  const h = pluginHarness(plugin, ini === undefined ? {} : { ini })
  const c = fakeConnection()
  const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['b@example.com'], headers })
  const answer = await h.run('data_post', c)
  return { answer, c, txn, kept: txn.header.header_list.map((l) => l.trimEnd()) }
}

describe('gateway-header-firewall', () => {
  it('always registers its data_post hook (nothing to switch off)', () => {
    expect(pluginHarness(plugin).hooks).toEqual(['data_post'])
  })

  it('strips forged X-Gateway-* fields in any case and obsolete syntax, keeps the rest, and records what it did', async () => {
    const { answer, c, txn, kept } = await filtered(undefined, [
      'From: a@sender.test',
      'X-Gateway-SCL: 0',
      'x-gateway-checks: spam=clean',
      'X-Gateway-Verdict : trusted',
      'Subject: hello',
      'X-Gateways: not ours',
    ])
    expect(answer).toEqual({ result: 'CONT' })
    expect(kept).toEqual(['From: a@sender.test', 'Subject: hello', 'X-Gateways: not ours'])
    expect(c.log).toEqual([
      'NOTICE [gateway-header-firewall] stripped 3 forbidden header name(s) from Internet mail: x-gateway-verdict, x-gateway-checks, x-gateway-scl',
    ])
    expect(txn.results.get('gateway-header-firewall')).toEqual({ msg: ['stripped x-gateway-verdict,x-gateway-checks,x-gateway-scl'] })
  })

  it('strips the configured names (case-insensitive) and prefixes, prototype names included', async () => {
    const ini = '[main]\nstrip[]=X-MS-Exchange-Organization-AuthAs\nstrip[]=constructor\nstrip_prefix[]=X-Internal-\n'
    const { answer, kept, txn } = await filtered(ini, [
      'x-ms-exchange-organization-authas: Internal',
      'X-Internal-Trust: yes',
      'Constructor: forged',
      '__proto__: kept',
      'X-Internals: kept',
      'Subject: hi',
    ])
    expect(answer).toEqual({ result: 'CONT' })
    expect(kept).toEqual(['__proto__: kept', 'X-Internals: kept', 'Subject: hi'])
    expect(txn.results.get('gateway-header-firewall')).toEqual({ msg: ['stripped constructor,x-internal-trust,x-ms-exchange-organization-authas'] })
  })

  it('a clean message continues and records nothing', async () => {
    const { answer, c, txn, kept } = await filtered('[main]\nstrip[]=X-Secret\n', ['From: a@sender.test', 'Subject: hi', 'Constructor: x', 'toString: y'])
    expect(answer).toEqual({ result: 'CONT' })
    expect(kept).toEqual(['From: a@sender.test', 'Subject: hi', 'Constructor: x', 'toString: y'])
    expect(c.log).toEqual([])
    expect(txn.results.get('gateway-header-firewall')).toBeUndefined()
  })

  it('refuses an unknown setting with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\nstrip[]=X-A\nstrip_prefixes[]=X-B\n' })).toThrow(
      /gateway-header-firewall\.ini:3: \[main\] strip_prefixes: unknown key \(known: strip, strip_prefix\)/,
    )
  })

  it('runs in the inbound instance only, first at data_post', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound'], hooks: ['data_post'], order: { first: { data_post: expect.any(String) } } })
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toBe('runs in the inbound instance only: remove it from the outbound instance')
  })
})
