// Unit test of gateway-core's first decision, the startup gate, through the real
// adapter and without Haraka: on a stand-in Haraka it refuses another version
// (naming both and the override), refuses an unreadable one, and with the
// operator's override still refuses a Haraka whose internals are not there,
// naming the first and the rest. What follows the gate in setup() (the instance
// check, setting Haraka's listen addresses, binding test sockets, creating TLS
// material, setting DNS resolvers process-wide) needs the real Haraka loaded
// and changes process state: it is left to the integration tests.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { CHECKED_HARAKA_VERSION } from '../../lib/haraka/version'
import { declarationOf } from '../../lib/plugin/declaration'
import { pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

beforeEach(() => {
  vi.stubEnv('GATEWAY_HARAKA_CHECKED', undefined)
})
afterEach(() => {
  vi.unstubAllEnvs()
})

const onHaraka = (pkg: unknown) => () => pluginHarness(plugin, { instance: 'inbound', haraka: { './package.json': pkg } })

describe('gateway-core', () => {
  it('runs in both instances, with one hook (connect_init: greeting and Received header)', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound', 'outbound'], hooks: ['connect_init'] })
  })

  it('refuses another Haraka version, naming both and the override', () => {
    expect(onHaraka({ version: '3.2.0' })).toThrow(
      `Haraka 3.2.0 is installed, but the gateway's patches of Haraka internals were checked against ${CHECKED_HARAKA_VERSION}: install haraka@${CHECKED_HARAKA_VERSION} (npm ci), or go through lib/haraka/UPGRADING.md for 3.2.0 and start with GATEWAY_HARAKA_CHECKED=3.2.0`,
    )
    vi.stubEnv('GATEWAY_HARAKA_CHECKED', '3.1.0')
    expect(onHaraka({ version: '3.2.0' })).toThrow(/\(GATEWAY_HARAKA_CHECKED=3\.1\.0 names another version\)/)
  })

  it('refuses a Haraka whose version cannot be read', () => {
    expect(onHaraka({})).toThrow(/Haraka lacks what the gateway relies on: .*used by the version gate.*UPGRADING\.md/)
  })

  it("with the operator's override it still checks every internal, naming the first missing and the rest", () => {
    vi.stubEnv('GATEWAY_HARAKA_CHECKED', '3.2.0')
    expect(onHaraka({ version: '3.2.0' })).toThrow(/^Haraka 3\.2\.0 lacks what the gateway relies on: .*; also .*gateway-tcp-nodelay/)
  })
})
