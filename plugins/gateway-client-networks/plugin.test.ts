// Unit test of gateway-client-networks (outbound): with an allow-list, a client from
// elsewhere is refused at connect (554 5.7.1, disconnect) and recorded; listed
// networks (IPv4, IPv6, IPv4-mapped) continue; no list means no hook. Settings come
// from the .ini or GATEWAY_OUTBOUND_CLIENTS; a bad entry names file, line and key.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeConnection, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

const INI = '[main]\nallow[]=10.1.0.0/16\nallow[]=2001:db8::/32\nallow[]=192.0.2.7\n'
const REFUSED = { result: 'DENYDISCONNECT', reply: '554 5.7.1 Access denied' }

describe('gateway-client-networks', () => {
  beforeEach(() => vi.stubEnv('GATEWAY_OUTBOUND_CLIENTS', ''))
  afterEach(() => vi.unstubAllEnvs())

  it('registers nothing without an allow-list (the default)', () => {
    expect(pluginHarness(plugin).hooks).toEqual([])
  })

  it('lets listed clients connect', async () => {
    const h = pluginHarness(plugin, { ini: INI })
    expect(h.hooks).toEqual(['connect'])
    expect(h.log).toEqual(['INFO [gateway-client-networks] clients allowed from: 10.1.0.0/16, 2001:db8::/32, 192.0.2.7'])
    for (const ip of ['10.1.2.3', '2001:db8::25', '192.0.2.7', '::ffff:10.1.200.1']) {
      const c = fakeConnection({ ip })
      expect(await h.run('connect', c)).toEqual({ result: 'CONT' })
      expect(c.results.get('gateway-client-networks')).toBeUndefined()
    }
  })

  it('refuses anyone else with 554 5.7.1 and a disconnect, and records the address', async () => {
    const h = pluginHarness(plugin, { ini: INI })
    for (const ip of ['10.2.0.1', '192.0.2.8', '2001:db9::1']) {
      const c = fakeConnection({ ip })
      expect(await h.run('connect', c)).toEqual(REFUSED)
      expect(c.results.get('gateway-client-networks')).toEqual({ fail: ['client_network'], ip })
    }
  })

  it('takes the list from GATEWAY_OUTBOUND_CLIENTS over the .ini', async () => {
    vi.stubEnv('GATEWAY_OUTBOUND_CLIENTS', '172.16.0.0/12')
    const h = pluginHarness(plugin, { ini: INI })
    expect(await h.run('connect', fakeConnection({ ip: '172.20.0.1' }))).toEqual({ result: 'CONT' })
    expect(await h.run('connect', fakeConnection({ ip: '10.1.2.3' }))).toEqual(REFUSED)
  })

  it('refuses a bad entry with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\nallow[]=10.0.0.0/8\nallow[]=10.0.0.0/33\n' })).toThrow(
      /gateway-client-networks\.ini:\d+: \[main\] allow: "10\.0\.0\.0\/33" has an invalid prefix length/,
    )
    expect(() => pluginHarness(plugin, { ini: '[main]\nallow[]=constructor\n' })).toThrow(/\[main\] allow: "constructor" is not an IP address or CIDR network/)
    expect(() => pluginHarness(plugin, { ini: '[main]\nallowed[]=10.0.0.0/8\n' })).toThrow(/gateway-client-networks\.ini:2: \[main\] allowed: unknown key \(known: allow\)/)
  })

  it('names the variable when the environment holds the bad entry', () => {
    vi.stubEnv('GATEWAY_OUTBOUND_CLIENTS', 'nowhere')
    expect(() => pluginHarness(plugin)).toThrow(/environment variable GATEWAY_OUTBOUND_CLIENTS.*"nowhere" is not an IP address/)
  })

  it('runs in the outbound instance only', () => {
    expect(instanceProblem(declarationOf(plugin)!, 'inbound')).toBe('runs in the outbound instance only: remove it from the inbound instance')
  })
})
