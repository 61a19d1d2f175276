// Unit test of gateway-data-budget through the real adapter: the replies of its
// MAIL and DATA hooks.
// test/security/memory.test.ts runs it in real Haraka under 20 concurrent 20 MB messages.

import { describe, expect, it } from 'vitest'

import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

function harness(ini: string) {
  return { h: pluginHarness(plugin, { ini }) }
}

/** A session that reached DATA's hooks (MAIL with `size`, if any, and one recipient). */
async function toData(h: ReturnType<typeof harness>['h'], size?: number) {
  const c = fakeConnection()
  const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['b@example.com'] })
  const mail = await h.run('mail', c, [txn.mail_from, size ? { SIZE: String(size) } : {}])
  const data = mail.result === 'CONT' ? await h.run('data', c) : undefined
  return { c, txn, mail, data }
}

describe('gateway-data-budget: transfers and bytes in flight', () => {
  it('answers DATA over max_concurrent_data with 451 4.3.2, records it, and takes DATA again once a transfer ended', async () => {
    const { h } = harness('[main]\nmax_concurrent_data=2\n')
    const first = await toData(h)
    const second = await toData(h)
    expect([first.data, second.data]).toEqual([{ result: 'CONT' }, { result: 'CONT' }])
    const third = await toData(h)
    expect(third.data).toEqual({ result: 'DENYSOFT', reply: '451 4.3.2 System busy, try again later' })
    expect(third.c.transaction!.results.get('gateway-data-budget')).toEqual({ fail: ['concurrent_data:tempfail'] })
    expect(third.c.log.join('\n')).toContain('decision check=data-budget result=concurrent_data action=tempfail detail="2 transfers in progress, limit 2"')
    // Haraka drops the transaction however the message ends (250, RSET, disconnect mid-DATA, timeout)
    first.c.transaction = null
    expect((await toData(h)).data).toEqual({ result: 'CONT' })
  })

  it('releases at disconnect', async () => {
    const { h } = harness('[main]\nmax_concurrent_data=1\n')
    const first = await toData(h)
    await h.run('disconnect', first.c)
    expect((await toData(h)).data).toEqual({ result: 'CONT' })
  })

  it('answers MAIL with a SIZE that does not fit the bytes in flight with 451 4.3.2', async () => {
    const { h } = harness('[main]\nmax_concurrent_data=0\nmax_inflight_bytes=1000\n')
    expect((await toData(h, 600)).data).toEqual({ result: 'CONT' })
    const big = await toData(h, 500)
    expect(big.mail).toEqual({ result: 'DENYSOFT', reply: '451 4.3.2 System busy, try again later' })
    expect(big.c.transaction!.results.get('gateway-data-budget')).toEqual({ fail: ['inflight_bytes:tempfail'] })
    expect((await toData(h, 400)).data).toEqual({ result: 'CONT' })
  })

  it('monitor: logs and counts, never refuses', async () => {
    const { h } = harness('[main]\nmax_concurrent_data=1\naction=monitor\n')
    await toData(h)
    const over = await toData(h)
    expect(over.data).toEqual({ result: 'CONT' })
    expect(over.c.transaction!.results.get('gateway-data-budget')).toEqual({ msg: ['concurrent_data:monitor'] })
  })

  it('refuses a bad setting with file, line and key', () => {
    expect(() => harness('[main]\naction=quarantine\n')).toThrow(/gateway-data-budget\.ini:2: \[main\] action: "quarantine" is not one of: reject, tempfail, monitor/)
  })
})
