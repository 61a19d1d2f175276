// Unit test of gateway-content through the real adapter, without Haraka: its
// declaration (inbound only), settings refused with file, line and key, the
// "off" case registering no data_post hook, and data_post reading the stored
// message (transaction.message_stream, as lib/content/stored-message.ts reads it)
// with a blocked attachment, a clean one, a header rule and monitor mode.

import { describe, expect, it } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import plugin from './plugin'

const BLOCKED = '554 5.7.1 Message contains a blocked attachment type'

/** A multipart message with one attachment called `filename`. */
function withAttachment(filename: string, type = 'application/octet-stream') {
  return {
    from: 'a@sender.test',
    to: ['user@example.com'],
    headers: ['From: a@sender.test', 'To: user@example.com', 'Subject: invoice', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"'],
    body: [
      '--b1',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Please see the attachment.',
      '--b1',
      `Content-Type: ${type}; name="${filename}"`,
      `Content-Disposition: attachment; filename="${filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('just some bytes, not a program').toString('base64'),
      '--b1--',
      '',
    ].join('\n'),
  }
}

describe('gateway-content', () => {
  it('runs in the inbound instance only', () => {
    expect(declarationOf(plugin)!.instances).toEqual(['inbound'])
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toMatch(/inbound instance only: remove it from the outbound instance/)
  })

  it('refuses a bad action and a bad rule with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[attachments]\naction=explode\n' })).toThrow(/gateway-content\.ini:2.*\[attachments\] action/)
    expect(() => pluginHarness(plugin, { ini: '[size]\nenabled=true\n\n[rule.x]\nheader=Subject\npattern=(\naction=reject\n' })).toThrow(/gateway-content\.ini:6.*\[rule\.x\] pattern/)
  })

  it('registers no data_post hook when attachments are off and there are no rules, and no size hooks with size off', () => {
    expect(pluginHarness(plugin, { ini: '[attachments]\nenabled=false\n' }).hooks).toEqual(['connect_init', 'max_data_exceeded'])
    expect(pluginHarness(plugin, { ini: '[size]\nenabled=false\n[attachments]\nenabled=false\n' }).hooks).toEqual([])
  })

  it('refuses a message with a blocked attachment at data_post (554 5.7.1), and records the decision', async () => {
    const h = pluginHarness(plugin)
    const c = fakeConnection()
    fakeTransaction(c, withAttachment('invoice.pdf.exe'))
    expect(await h.run('data_post', c)).toEqual({ result: 'DENY', reply: BLOCKED })
    expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'attachment', result: 'blocked_extension', action: 'reject' })])
    expect(c.log).toEqual([expect.stringMatching(/decision check=attachment result=blocked_extension action=reject .*invoice\.pdf\.exe/)])
  })

  it('lets a message with a harmless attachment through', async () => {
    const h = pluginHarness(plugin)
    const c = fakeConnection()
    fakeTransaction(c, withAttachment('invoice.pdf', 'application/pdf'))
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(decisionsOf(c)).toEqual([])
  })

  it('blocks by MIME type and by an operator extension list', async () => {
    const h = pluginHarness(plugin, { ini: '[attachments]\nblocked_extensions=.PDF\n' })
    const c1 = fakeConnection()
    fakeTransaction(c1, withAttachment('invoice.pdf', 'application/pdf'))
    expect(await h.run('data_post', c1)).toEqual({ result: 'DENY', reply: BLOCKED })
    const c2 = fakeConnection()
    fakeTransaction(c2, withAttachment('readme.txt', 'application/x-msdownload'))
    expect(await h.run('data_post', c2)).toEqual({ result: 'DENY', reply: BLOCKED })
    expect(decisionsOf(c2)).toEqual([expect.objectContaining({ result: 'blocked_mime_type' })])
  })

  it('with action=monitor it records the blocked attachment and delivers', async () => {
    const h = pluginHarness(plugin, { ini: '[attachments]\naction=monitor\n' })
    const c = fakeConnection()
    fakeTransaction(c, withAttachment('run.exe'))
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(decisionsOf(c)).toEqual([expect.objectContaining({ check: 'attachment', action: 'monitor' })])
  })

  it('a header rule decides with its own action; a permanent refusal wins over a temporary one', async () => {
    const ini = '[rule.fraud]\nheader=Subject\npattern=invoice\nflags=i\naction=tempfail\n'
    const h = pluginHarness(plugin, { ini })
    const c1 = fakeConnection()
    fakeTransaction(c1, withAttachment('invoice.pdf', 'application/pdf'))
    expect(await h.run('data_post', c1)).toEqual({ result: 'DENYSOFT', reply: '451 4.7.1 Message content rejected' })
    const c2 = fakeConnection()
    fakeTransaction(c2, withAttachment('invoice.exe'))
    expect(await h.run('data_post', c2)).toEqual({ result: 'DENY', reply: BLOCKED })
    expect(decisionsOf(c2).map((d) => d.check)).toEqual(['attachment', 'content-rule:fraud'])
  })
})
