// Unit test of the README's example plugin, in milliseconds and without Haraka:
// the harness loads it through the real adapter (settings validated as at
// startup) and calls its rcpt hook as Haraka would.

import { describe, expect, it } from 'vitest'

import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

describe('gateway-recipient-limit', () => {
  it('registers nothing when off (the default)', () => {
    expect(pluginHarness(plugin).hooks).toEqual([])
  })

  it('answers 452 4.5.3 to the recipient over the limit, and records why', async () => {
    const h = pluginHarness(plugin, { ini: '[main]\nmax_recipients=2\n' })
    const c = fakeConnection()
    const txn = fakeTransaction(c, { from: 'app@example.com', to: ['a@example.net', 'b@example.net'] })
    expect(await h.run('rcpt', c, [txn.rcpt_to[1], {}])).toEqual({ result: 'CONT' })
    txn.rcpt_to.push(txn.rcpt_to[0]!) // Haraka adds the recipient before running rcpt hooks
    expect(await h.run('rcpt', c, [txn.rcpt_to[2], {}])).toEqual({ result: 'DENYSOFT', reply: '452 4.5.3 Too many recipients' })
    expect(txn.results.get('gateway-recipient-limit')).toEqual({ fail: ['max_recipients'], max: 2 })
  })

  it('refuses a bad setting with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\nmax_recipients=lots\n' })).toThrow(/gateway-recipient-limit\.ini:2: \[main\] max_recipients: "lots" is not a whole number/)
  })
})
