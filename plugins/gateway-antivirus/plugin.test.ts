// Unit test of gateway-antivirus through the real adapter, without Haraka and
// without clamd: its declaration (inbound only), settings refused with file,
// line and key, and data_post with clamd unreachable (a local port just closed),
// where [main] on_error decides: tempfail answers 451 4.3.0 (a local problem,
// nothing about the scanner), accept delivers the message marked
// "X-Gateway-Virus: unscanned"; an outage is one ERROR, then INFO lines. The
// engine variables of the environment are cleared, so the .ini given here counts.


import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import { freePort } from '../../cli/launcher/proc'
import plugin from './plugin'

let port = 0
beforeAll(async () => {
  port = await freePort() // bound by us, then closed: nothing listens there
})
beforeEach(() => {
  for (const v of ['GATEWAY_CLAMD_SERVER', 'GATEWAY_VIRUS_ON_ERROR', 'GATEWAY_VIRUS_ENGINE']) vi.stubEnv(v, undefined)
})
afterEach(() => {
  vi.unstubAllEnvs()
})

const message = { from: 'a@sender.test', to: ['user@example.com'], headers: ['From: a@sender.test', 'Subject: hello'], body: 'Hello.\n' }
const LOCAL_PROBLEM = '451 4.3.0 Temporary local problem, please try again later'

describe('gateway-antivirus', () => {
  it('runs in the inbound instance only, always at data_post, and says where it scans', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound'], hooks: ['data_post'] })
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toMatch(/inbound instance only/)
    const h = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\n` })
    expect(h.hooks).toEqual(['data_post'])
    expect(h.log).toEqual([`INFO [gateway-antivirus] scanning with clamd at 127.0.0.1:${port}: action=reject, on_error=tempfail`])
  })

  it('refuses bad settings with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\naction=delete\n' })).toThrow(/gateway-antivirus\.ini:2.*\[main\] action/)
    expect(() => pluginHarness(plugin, { ini: '[main]\non_error=ignore\n' })).toThrow(/gateway-antivirus\.ini:2.*\[main\] on_error/)
    expect(() => pluginHarness(plugin, { ini: '[main]\nconnect_timeout_ms=5000\ntimeout_ms=2000\n' })).toThrow(/gateway-antivirus\.ini.*\[main\] connect_timeout_ms: 5000 is longer than timeout_ms/)
  })

  it('clamd unreachable, on_error=tempfail (the default): 451 4.3.0, recorded as unscanned; one ERROR per outage', async () => {
    const h = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\n` })
    const c1 = fakeConnection()
    const txn1 = fakeTransaction(c1, message)
    expect(await h.run('data_post', c1)).toEqual({ result: 'DENYSOFT', reply: LOCAL_PROBLEM })
    expect(decisionsOf(c1)).toEqual([expect.objectContaining({ check: 'virus', result: 'unscanned', action: 'tempfail' })])
    expect(txn1.header.get('X-Gateway-Virus')).toBe('')
    expect(c1.log.filter((l) => l.startsWith('ERROR'))).toEqual([expect.stringMatching(/^ERROR \[gateway-antivirus\] message not scanned/)])

    const c2 = fakeConnection()
    fakeTransaction(c2, message)
    expect(await h.run('data_post', c2)).toEqual({ result: 'DENYSOFT', reply: LOCAL_PROBLEM })
    expect(c2.log.filter((l) => l.startsWith('ERROR'))).toEqual([])
    expect(c2.log).toContainEqual(expect.stringMatching(/^INFO \[gateway-antivirus\] message not scanned/))
  })

  it('clamd unreachable, on_error=accept: delivered marked X-Gateway-Virus: unscanned (a forged mark removed)', async () => {
    const h = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\non_error=accept\n` })
    const c = fakeConnection()
    const txn = fakeTransaction(c, { ...message, headers: [...message.headers, 'X-Gateway-Virus: clean'] })
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(txn.header.get_all('X-Gateway-Virus')).toEqual(['unscanned'])
    expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'virus', result: 'unscanned', action: 'accept' })])
  })

  it('GATEWAY_VIRUS_ON_ERROR=accept overrides the file; GATEWAY_VIRUS_ENGINE=off is said once at start', async () => {
    vi.stubEnv('GATEWAY_VIRUS_ON_ERROR', 'accept')
    vi.stubEnv('GATEWAY_VIRUS_ENGINE', 'off')
    const h = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\non_error=tempfail\n` })
    expect(h.log).toEqual([
      `NOTICE [gateway-antivirus] virus scanning OFF (gateway start found no clamd): mail is delivered marked "X-Gateway-Virus: unscanned" until clamd answers at 127.0.0.1:${port}`,
    ])
    const c = fakeConnection()
    const txn = fakeTransaction(c, message)
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(txn.header.get('X-Gateway-Virus')).toBe('unscanned')
    // announced as off: the outage is expected, so no ERROR line
    expect(c.log.filter((l) => l.startsWith('ERROR'))).toEqual([])
  })
})
