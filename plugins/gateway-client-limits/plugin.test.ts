// Unit tests of gateway-client-limits through the real adapter (settings validated
// as at startup) with fake connections: the per-address connection limit and its
// release at disconnect, exempt networks, monitor mode, bad settings. The real
// thing (timers, Redis, replies on the wire) is test/security/client-limits.test.ts.
import { EventEmitter } from 'node:events'

import { describe, expect, it } from 'vitest'

import { fakeConnection, pluginHarness, type FakeConnection } from '../../lib/plugin/testing'
import plugin from './plugin'

/** A fake connection with what lib/haraka/session-watch.ts needs of Haraka's (state CMD, process_line, client socket). */
function connection(ip: string): FakeConnection {
  const c = fakeConnection({ ip })
  Object.assign(c, { state: 1, process_line: () => {}, disconnect: () => {}, client: new EventEmitter() })
  return c
}

const ini = (connections: string, main = 'exempt=\n') => `[main]\n${main}[connections]\nrate_per_ip=0\n${connections}[timeouts]\ncommand=0s\nsession=0s\n`

describe('gateway-client-limits', () => {
  it('refuses the connection over max_per_ip with 421 4.7.0 and frees the slot at disconnect', async () => {
    const h = pluginHarness(plugin, { ini: ini('max_per_ip=1\n') })
    const [a, b, c] = [connection('192.0.2.1'), connection('192.0.2.1'), connection('192.0.2.1')]
    for (const x of [a, b, c]) await h.run('connect_init', x)
    expect(await h.run('connect', a)).toEqual({ result: 'CONT' })
    expect(await h.run('connect', b)).toEqual({ result: 'DENYSOFTDISCONNECT', reply: '421 4.7.0 Too many connections from your address, try again later' })
    expect(await h.run('connect', connection('192.0.2.2'))).toEqual({ result: 'CONT' })
    await h.run('disconnect', a)
    await h.run('disconnect', b)
    expect(await h.run('connect', c)).toEqual({ result: 'CONT' })
    expect(c.log.join('\n')).not.toMatch(/decision/)
    expect(b.log.join('\n')).toMatch(/decision check=client-limit result=connections_per_ip action=reject detail="open=2 max=1"/)
  })

  it('does not count exempt networks', async () => {
    const h = pluginHarness(plugin, { ini: ini('max_per_ip=1\n', 'exempt=192.0.2.0/24\n') })
    for (let i = 0; i < 3; i++) expect(await h.run('connect', connection('192.0.2.9'))).toEqual({ result: 'CONT' })
  })

  it('monitor: records the connection over the limit and lets it through', async () => {
    const h = pluginHarness(plugin, { ini: ini('action=monitor\nmax_per_ip=1\n') })
    const [a, b] = [connection('192.0.2.1'), connection('192.0.2.1')]
    expect(await h.run('connect', a)).toEqual({ result: 'CONT' })
    expect(await h.run('connect', b)).toEqual({ result: 'CONT' })
    expect(b.results.get('gateway-client-limits')).toEqual({ msg: ['connections_per_ip:monitor'] })
  })

  it('refuses a bad setting with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[early_talker]\ndelay=30s\n' })).toThrow(/gateway-client-limits\.ini:2: \[early_talker\] delay: 30s is longer than the maximum 10 s/)
  })
})
