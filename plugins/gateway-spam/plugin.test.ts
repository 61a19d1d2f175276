// Unit test of gateway-spam through the real adapter, without Haraka and without
// rspamd: its declaration (inbound only), settings refused with file, line and
// key (SCL thresholds that contradict each other included), and data_post with
// rspamd unreachable (a local port just closed), where [main] on_error decides:
// tempfail answers 451 with the local-problem text, accept (or monitor) delivers
// the message marked "X-Gateway-Spam: unscanned". The engine variables of the
// environment are cleared, so the .ini given here is what counts.


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
  for (const v of ['GATEWAY_RSPAMD_SERVER', 'GATEWAY_SPAM_ON_ERROR', 'GATEWAY_SPAM_ENGINE']) vi.stubEnv(v, undefined)
})
afterEach(() => {
  vi.unstubAllEnvs()
})

const message = { from: 'a@sender.test', to: ['user@example.com'], headers: ['From: a@sender.test', 'Subject: hello'], body: 'Hello.\n' }

describe('gateway-spam', () => {
  it('runs in the inbound instance only, always at data_post', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound'], hooks: ['data_post'] })
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toMatch(/inbound instance only/)
    expect(pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\n` }).hooks).toEqual(['data_post'])
  })

  it('refuses bad settings with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\non_error=ignore\n' })).toThrow(/gateway-spam\.ini:2.*\[main\] on_error/)
    expect(() => pluginHarness(plugin, { ini: '[main]\ntimeout_ms=60000\n' })).toThrow(/gateway-spam\.ini:2.*\[main\] timeout_ms/)
    expect(() => pluginHarness(plugin, { ini: '[scl]\nreject=5\nquarantine=7\n' })).toThrow(/gateway-spam\.ini.*\[scl\] /)
  })

  it('a bad GATEWAY_SPAM_ON_ERROR is refused naming the variable', () => {
    vi.stubEnv('GATEWAY_SPAM_ON_ERROR', 'maybe')
    expect(() => pluginHarness(plugin)).toThrow(/GATEWAY_SPAM_ON_ERROR/)
  })

  it('rspamd unreachable, on_error=tempfail (the default): 451 with the local-problem text, recorded as unscanned', async () => {
    const h = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\n` })
    const c = fakeConnection()
    const txn = fakeTransaction(c, message)
    const answer = await h.run('data_post', c)
    // decide()'s tempfail keeps the text and answers 4.7.1 (the plugin's own comment says so), not REPLIES.localError's 4.3.0
    expect(answer).toEqual({ result: 'DENYSOFT', reply: '451 4.7.1 Temporary local problem, please try again later' })
    expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'spam', result: 'unscanned', action: 'tempfail' })])
    expect(txn.header.get('X-Gateway-Spam')).toBe('')
  })

  it('rspamd unreachable, on_error=accept: delivered marked X-Gateway-Spam: unscanned', async () => {
    const h = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\non_error=accept\n` })
    const c = fakeConnection()
    const txn = fakeTransaction(c, { ...message, headers: [...message.headers, 'X-Gateway-Spam: clean (forged)'] })
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(txn.header.get_all('X-Gateway-Spam')).toEqual(['unscanned'])
    expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'spam', result: 'unscanned', action: 'accept' })])
    expect(c.log.join('\n')).toMatch(/rspamd unreachable/)
  })

  it('GATEWAY_SPAM_ON_ERROR=accept overrides the file; monitor mode also delivers unscanned mail', async () => {
    vi.stubEnv('GATEWAY_SPAM_ON_ERROR', 'accept')
    const h1 = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\non_error=tempfail\n` })
    const c1 = fakeConnection()
    fakeTransaction(c1, message)
    expect(await h1.run('data_post', c1)).toEqual({ result: 'CONT' })

    vi.stubEnv('GATEWAY_SPAM_ON_ERROR', undefined)
    const h2 = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\nmonitor=true\n` })
    const c2 = fakeConnection()
    const txn2 = fakeTransaction(c2, message)
    expect(await h2.run('data_post', c2)).toEqual({ result: 'CONT' })
    expect(txn2.header.get('X-Gateway-Spam')).toBe('unscanned')
    expect(decisionsOf(c2)).toEqual([expect.objectContaining({ result: 'unscanned', action: 'monitor' })])
  })

  it('says once at setup that scanning is OFF when gateway start found no rspamd', () => {
    vi.stubEnv('GATEWAY_SPAM_ENGINE', 'off')
    const h = pluginHarness(plugin, { ini: `[main]\nserver=127.0.0.1:${port}\n` })
    expect(h.log).toEqual([`NOTICE [gateway-spam] spam scanning OFF (gateway start found no rspamd): mail is refused with 451 (on_error=tempfail) until rspamd answers at 127.0.0.1:${port}`])
  })
})
