// Unit test of gateway-dkim-unsigned (inbound, before dkim): a message without any
// DKIM-Signature field gets haraka-plugin-dkim's own "no signature" result and the
// plugin is skipped for the transaction; a message with one (any case, broken or
// not) is left to the plugin. Over real SMTP with the shipped inbound plugin list:
// test/dkim-unsigned.test.ts (the skip, dkim=none) and test/auth.test.ts (dkim=pass).

import { describe, expect, it } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { SKIP_PLUGINS } from '../../lib/plugin/haraka-notes'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

/** data_post on a message with these header fields, with Haraka's empty skip list (transaction.js). */
async function run(headers: string[], skipList: string[] | null = []) {
  const h = pluginHarness(plugin)
  const c = fakeConnection()
  const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['b@example.com'], headers })
  if (skipList) SKIP_PLUGINS.set(txn, skipList)
  const answer = await h.run('data_post', c)
  return { answer, txn, c }
}

describe('gateway-dkim-unsigned', () => {
  it('skips dkim for a message without a signature, recording what dkim records then', async () => {
    const { answer, txn, c } = await run(['From: a@sender.test', 'Subject: hi', 'X-DKIM-Signature-Note: not one'])
    expect(answer).toEqual({ result: 'CONT' })
    expect(SKIP_PLUGINS.get(txn)).toEqual(['dkim'])
    expect(txn.results.get('dkim')).toEqual({ skip: ['no/bad signature'] })
    expect(c.log).toEqual([])
  })

  it('leaves a signed message to dkim, whatever the case of the name and the state of the field', async () => {
    for (const field of ['DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=s1; b=abc', 'dkim-signature: broken']) {
      const { answer, txn } = await run(['From: a@sender.test', field, 'Subject: hi'])
      expect(answer).toEqual({ result: 'CONT' })
      expect(SKIP_PLUGINS.get(txn)).toEqual([])
      expect(txn.results.get('dkim')).toBeUndefined()
    }
  })

  it('does nothing without the skip list Haraka keeps (dkim then verifies as without this plugin)', async () => {
    const { txn } = await run(['From: a@sender.test'], null)
    expect(SKIP_PLUGINS.get(txn)).toBeUndefined()
    expect(txn.results.get('dkim')).toBeUndefined()
  })

  it('runs in the inbound instance only, before dkim', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound'], hooks: ['data_post'], order: { before: { dkim: expect.any(String) } } })
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toBe('runs in the inbound instance only: remove it from the outbound instance')
  })
})
