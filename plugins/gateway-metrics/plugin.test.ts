// Unit test of gateway-metrics through the real adapter, without Haraka: it
// registers no hook (it only observes counts), refuses an exposed address
// without a token like startup does, and stops observing on shutdown. The
// endpoint itself (listening, scrapes, cluster mode) is tested with real
// instances in test/metrics.test.ts.

import { describe, expect, it } from 'vitest'

import { ConfigError } from '../../lib/config/errors'
import { notifyCount } from '../../lib/metrics/observe'
import { pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

describe('gateway-metrics', () => {
  it('with listen=off: no hooks, no endpoint, counts observed without effect on the caller', async () => {
    const h = pluginHarness(plugin, { instance: 'inbound', ini: '[http]\nlisten=off\n', haraka: { './outbound/queue': { get_stats: () => '0/0/0' } } })
    expect(h.hooks).toEqual([])
    expect(() => notifyCount('connections', 1)).not.toThrow()
    expect(h.log.join('\n')).not.toMatch(/metrics on http/)
    await h.shutdown()
  })

  it('refuses a non-loopback address without a token', () => {
    expect(() => pluginHarness(plugin, { instance: 'outbound', ini: '[http]\nlisten=0.0.0.0:9126\n' })).toThrow(ConfigError)
    expect(() => pluginHarness(plugin, { instance: 'outbound', ini: '[http]\nlisten=0.0.0.0:9126\n' })).toThrow(/\[http\] listen: 0\.0\.0\.0 is not a loopback address/)
  })
})
