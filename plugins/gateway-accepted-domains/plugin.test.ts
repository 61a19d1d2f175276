// Unit test: the accepted-domain decision at RCPT (its OK ends the rcpt hook,
// which is why every other rcpt check is listed before it; see lib/plugin/order.ts).

import { describe, expect, it } from 'vitest'

import { declarationOf } from '../../lib/plugin/declaration'
import { fakeConnection, fakeTransaction, pluginHarness, testGatewayConfig } from '../../lib/plugin/testing'
import plugin from './plugin'

describe('gateway-accepted-domains', () => {
  const h = pluginHarness(plugin, { gateway: testGatewayConfig({ acceptedDomains: ['example.com', 'xn--bcher-kva.example'] }) })

  it('accepts (and ends the rcpt hook for) an accepted domain, IDN and case folded', async () => {
    for (const to of ['ceo@Example.COM', 'info@bücher.example']) {
      const c = fakeConnection()
      const txn = fakeTransaction(c, { from: 'a@sender.test', to: [to] })
      expect(await h.run('rcpt', c, [txn.rcpt_to[0], {}])).toEqual({ result: 'OK' })
    }
  })

  it('refuses relaying with 550 5.7.1, and records the domain', async () => {
    const c = fakeConnection()
    const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['victim@elsewhere.test'] })
    expect(await h.run('rcpt', c, [txn.rcpt_to[0], {}])).toEqual({ result: 'DENY', reply: '550 5.7.1 Relaying denied' })
    expect(txn.results.get('gateway-accepted-domains')).toMatchObject({ fail: ['accepted_domain'], domain: 'elsewhere.test' })
  })

  it('declares that it ends the rcpt hook, and runs inbound only', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound'], hooks: ['rcpt'], order: { endsChain: ['rcpt'] } })
  })
})
