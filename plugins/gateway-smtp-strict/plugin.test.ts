// Unit test: the mail and rcpt hooks read the command line as sent (Haraka's
// connection.current_line) against what the EHLO reply advertised.

import { describe, expect, it } from 'vitest'

import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

const EHLO = ['mx.example.com Hello', 'PIPELINING', '8BITMIME', 'SMTPUTF8', 'SIZE 26214400']

function session(capabilities = EHLO) {
  const c = fakeConnection({ helo: 'client.test' })
  Object.assign(c, { capabilities })
  return c
}

async function mail(line: string, params: Record<string, string | null> = {}, capabilities = EHLO) {
  const h = pluginHarness(plugin)
  const c = session(capabilities)
  const txn = fakeTransaction(c, { from: 'a@sender.test' })
  Object.assign(c, { current_line: line })
  return h.run('mail', c, [txn.mail_from, params])
}

describe('gateway-smtp-strict', () => {
  it('accepts advertised parameters with valid values', async () => {
    expect(await mail('MAIL FROM:<a@sender.test> SIZE=1000 BODY=8bitmime SMTPUTF8', { SIZE: '1000', BODY: '8bitmime', SMTPUTF8: null })).toEqual({ result: 'CONT' })
  })

  it.each(['SIZE=-1', 'SIZE=abc', 'SIZE', 'SIZE=1 SIZE=2', 'FOO=bar', 'BODY=BINARYMIME', 'SMTPUTF8=1', 'AUTH=<>', 'RET=FULL', 'REQUIRETLS'])('refuses %s with 555 5.5.4', async (p) => {
    expect(await mail(`MAIL FROM:<a@sender.test> ${p}`)).toEqual({ result: 'DENY', reply: '555 5.5.4 Unrecognized or invalid command parameters' })
  })

  it('accepts AUTH= and DSN parameters where they are advertised', async () => {
    const caps = [...EHLO, 'AUTH PLAIN LOGIN', 'DSN']
    expect(await mail('MAIL FROM:<a@sender.test> AUTH=<> RET=HDRS ENVID=abc+2B1', {}, caps)).toEqual({ result: 'CONT' })
  })
})
