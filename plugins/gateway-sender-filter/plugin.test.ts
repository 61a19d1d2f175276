// Unit test of a policy check through the whole policy path: finding -> configured
// action -> decide() -> the one recorder (log line, results, counter, marks), with
// typed per-message state carried from MAIL to data_post.

import { describe, expect, it } from 'vitest'

import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import plugin from './plugin'

const REFUSED = '550 5.7.1 Sender address rejected: not accepted from the Internet'

describe('gateway-sender-filter', () => {
  it('refuses our own domain as envelope sender from the Internet, and logs the decision', async () => {
    const h = pluginHarness(plugin)
    const c = fakeConnection()
    const txn = fakeTransaction(c, { from: 'ceo@example.com' })
    expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'DENY', reply: REFUSED })
    expect(c.log).toEqual(['NOTICE [gateway-sender-filter] decision check=sender-spoofing result=internal_domain_envelope action=reject detail="ceo@example.com"'])
  })

  it('on trial (monitor) it records the decision for the message and lets it through', async () => {
    const h = pluginHarness(plugin, { ini: '[spoofing]\naction=monitor\n' })
    const c = fakeConnection()
    const txn = fakeTransaction(c, { from: 'a@sender.test', headers: ['From: "CEO" <ceo@example.com>'] })
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(decisionsOf(c)).toEqual([{ check: 'sender-spoofing', result: 'internal_domain_header', action: 'monitor' }])
    expect(txn.results.get('gateway-sender-filter')).toEqual({ msg: ['internal_domain_header:monitor'] })
  })

  it('an allowed sender without aligned SPF at MAIL waits for DKIM, then is refused at data_post', async () => {
    const h = pluginHarness(plugin, { ini: '[spoofing]\nallow[]=news@example.com\n' })
    const c = fakeConnection()
    const txn = fakeTransaction(c, { from: 'news@example.com', headers: ['From: news@example.com'] })
    expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'CONT' })
    expect(await h.run('data_post', c)).toEqual({ result: 'DENY', reply: REFUSED })
    expect(c.log).toEqual([expect.stringContaining('result=allowed_sender_unaligned action=reject')])
  })
})
