// Unit test of gateway-routing (both instances, get_mx, ends the chain): mail for an
// accepted domain (case and IDN folded) goes to the internal servers in the
// configured order, as Haraka's MX list; other domains are left to Haraka's own MX
// lookup unless a source address or HELO name is configured. That configured path
// resolves MX records over DNS, so it is not run here (no network in unit tests);
// its settings are: a source_ip that is not an address of this host and a bad HELO
// name are refused with file and key.

import { describe, expect, it } from 'vitest'

import { declarationOf } from '../../lib/plugin/declaration'
import { fakeQueuedMail, pluginHarness, testGatewayConfig } from '../../lib/plugin/testing'
import plugin from './plugin'

const gateway = testGatewayConfig({ acceptedDomains: ['example.com', 'xn--bcher-kva.example'], internalHosts: ['10.0.0.5:25', '10.0.0.6:2525'] })
const INTERNAL = [
  { exchange: '10.0.0.5', port: 25, priority: 0 },
  { exchange: '10.0.0.6', port: 2525, priority: 1 },
]

describe('gateway-routing', () => {
  for (const instance of ['inbound', 'outbound'] as const) {
    it(`${instance}: routes accepted domains to the internal servers in order, and ends the hook`, async () => {
      const h = pluginHarness(plugin, { instance, gateway })
      expect(h.hooks).toEqual(['get_mx'])
      for (const domain of ['example.com', 'EXAMPLE.com', 'bücher.example', 'xn--bcher-kva.example']) {
        expect(await h.run('get_mx', fakeQueuedMail({ domain }), domain)).toEqual({ result: 'OK', value: INTERNAL })
      }
    })
  }

  it("leaves other domains (prototype names too) to Haraka's own MX lookup when no identity is configured", async () => {
    const h = pluginHarness(plugin, { instance: 'outbound', gateway })
    for (const domain of ['elsewhere.test', 'sub.example.com', 'constructor', '__proto__']) {
      expect(await h.run('get_mx', fakeQueuedMail({ domain, to: ['user@elsewhere.test'] }), domain)).toEqual({ result: 'CONT' })
    }
  })

  it('accepts a loopback source address and a HELO name', () => {
    expect(pluginHarness(plugin, { instance: 'outbound', gateway, ini: '[internet]\nsource_ip=127.0.0.1\nhelo=mx-out.example.com\n' }).hooks).toEqual(['get_mx'])
  })

  it('refuses a source address that is not on this host, a bad HELO name and unknown keys', () => {
    expect(() => pluginHarness(plugin, { gateway, ini: '[internet]\nsource_ip=203.0.113.77\n' })).toThrow(
      /gateway-routing\.ini: \[internet\] source_ip: 203\.0\.113\.77 is not an address of this host/,
    )
    expect(() => pluginHarness(plugin, { gateway, ini: '[internet]\nsource_ip=not-an-ip\n' })).toThrow(/\[internet\] source_ip: not-an-ip is not an address of this host/)
    expect(() => pluginHarness(plugin, { gateway, ini: '[internet]\nhelo=bad name!\n' })).toThrow(/gateway-routing\.ini:2: \[internet\] helo: /)
    expect(() => pluginHarness(plugin, { gateway, ini: '[internet]\nbind=127.0.0.1\n' })).toThrow(/gateway-routing\.ini:2: \[internet\] bind: unknown key/)
  })

  it('runs in both instances and declares that it ends the get_mx hook', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound', 'outbound'], hooks: ['get_mx'], order: { endsChain: ['get_mx'] } })
  })
})
