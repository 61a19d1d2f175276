// Logging at the shipped level (inbound/config/log.ini, outbound/config/log.ini:
// notice), over real SMTP: one summary line per transaction, one line per
// delivery attempt, nothing else for a normal message; the summary says who,
// what, how it ended and which checks acted, and never carries a credential.

import fs from 'node:fs'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { base64 } from '../lib/smtp/client'
import { addUser, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail, testMessage, type Instance, type TestGateway } from './helpers/gateway'

const PASSWORD = 'correct horse battery'
const shipped = (instance: Instance) => fs.readFileSync(path.join(GATEWAY_ROOT, instance, 'config', 'log.ini'), 'utf8')

const { gw } = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  files: {
    'inbound/config/log.ini': shipped('inbound'),
    'outbound/config/log.ini': shipped('outbound'),
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
  },
  prepare: ({ gw }) => addUser(gw, 'app@example.com', PASSWORD),
})

/** The log lines `run` made an instance write (timestamps cut), once `until` is in them. */
async function linesOf(g: TestGateway, instance: Instance, run: () => Promise<unknown>, until: RegExp): Promise<string[]> {
  const before = g.log(instance).length
  await run()
  await expect.poll(() => g.log(instance).slice(before), { timeout: 20_000 }).toMatch(until)
  return g
    .log(instance)
    .slice(before)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/^\S+Z /, ''))
}

async function inboundMessage(to: string[]): Promise<{ marker: string; codes: number[] }> {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  const m = testMessage({ from: 'someone@sender.test', to: to[0]! })
  const r = await sendMail(client, { from: 'someone@sender.test', to }, m.text)
  await client.quit()
  return { marker: m.marker, codes: [...r.rcpts.map((x) => x.code), ...(r.end ? [r.end.code] : [])] }
}

async function outboundMessage(): Promise<string> {
  const { client } = await gw.connect('outbound')
  await client.ehlo()
  expect((await client.startTls()).code).toBe(220)
  await client.ehlo()
  expect((await client.send(`AUTH PLAIN ${base64(`\0app@example.com\0${PASSWORD}`)}`)).code).toBe(235)
  const m = testMessage({ from: 'app@example.com', to: 'x@partner.test' })
  const r = await sendMail(client, { from: 'app@example.com', to: ['x@partner.test'] }, m.text)
  expect(r.end?.code).toBe(250)
  await client.quit()
  return m.marker
}

describe('logging at the shipped level', () => {
  it('writes one summary line and one delivery line for an inbound message, nothing else', async () => {
    // a process's first message may log one-time notes; its delivery line is written after the
    // internal server has answered 250, so wait for the line, not for the internal server
    await linesOf(gw, 'inbound', () => inboundMessage(['warmup@example.com']), /delivery id=\S+ result=delivered/)
    const lines = await linesOf(gw, 'inbound', () => inboundMessage(['user@example.com']), /delivery id=\S+ result=delivered/)
    expect(lines).toEqual([
      expect.stringMatching(
        /^\[NOTICE\] \[[0-9A-F-]+\.1\] \[gateway-track\] summary id=[0-9A-F-]+\.1 mid=<marker-\d+-\d+@test\.invalid> ip=127\.0\.0\.1 helo=mx\.sender\.test tls=N from=someone@sender\.test rcpts=1 size=\d+ result=accepted reply="250 [^"]*Message queued[^"]*" .*time=[\d.]+$/,
      ),
      expect.stringMatching(/\[gateway-track\] delivery id=[0-9A-F-]+\.1\.1 result=delivered domain=example\.com host=\S+:2526 tls=N rcpts=1 failures=0 reply="250 [^"]*"$/),
    ])
  })

  it('sums up a refused transaction in one line with the reply and the refused recipients', async () => {
    const lines = await linesOf(gw, 'inbound', async () => expect((await inboundMessage(['user@elsewhere.test'])).codes).toEqual([550]), /summary id=/)
    const summary = lines.find((l) => l.includes('summary id='))!
    expect(summary).toMatch(/from=someone@sender\.test rcpts=0 refused=1 result=rejected reply="550 5\.\d\.\d [^"]+"/)
    // the one line per transaction: no per-command lines of Haraka (they are at INFO)
    expect(lines.filter((l) => /\[core\]/.test(l))).toEqual([])
    expect(lines.filter((l) => l.includes('summary id='))).toHaveLength(1)
  })

  it('one summary per transaction of a session, ended by RSET or by the next MAIL too', async () => {
    const lines = await linesOf(
      gw,
      'inbound',
      async () => {
        const { client } = await gw.connect('inbound')
        await client.ehlo('mx.sender.test')
        await client.send('MAIL FROM:<first@sender.test>')
        await client.send('RSET')
        await client.send('MAIL FROM:<second@sender.test>')
        await client.send('RCPT TO:<user@example.com>')
        await client.quit()
      },
      /summary id=\S+\.2 [^\n]*from=second@sender\.test/,
    )
    const summaries = lines.filter((l) => l.includes('summary id='))
    expect(summaries).toHaveLength(2)
    expect(summaries[0]).toMatch(/from=first@sender\.test rcpts=0 result=ended_by_client/)
    expect(summaries[1]).toMatch(/from=second@sender\.test rcpts=1 result=ended_by_client/)
  })

  it('writes one summary (TLS, authenticated name, no secret) and one delivery line for a STARTTLS+AUTH message', async () => {
    const lines = await linesOf(gw, 'outbound', () => outboundMessage(), /delivery id=\S+ result=delivered/)
    const summary = lines.filter((l) => l.includes('summary id='))
    expect(summary).toHaveLength(1)
    expect(summary[0]).toMatch(/ tls=Y auth=app@example\.com from=app@example\.com rcpts=1 size=\d+ result=accepted reply="250 [^"]+"/)
    expect(lines.filter((l) => l.includes('delivery id='))).toEqual([expect.stringMatching(/result=delivered domain=partner\.test host=mx\.partner\.test\[[\d.]+\]:25 tls=N rcpts=1 failures=0 reply="250 /)])
    const log = gw.log('outbound')
    for (const secret of [PASSWORD, base64(`\0app@example.com\0${PASSWORD}`), base64(PASSWORD)]) expect(log).not.toContain(secret)
    // besides: the session's authentication (once per session, however many messages follow)
    expect(lines.filter((l) => !/summary id=|delivery id=/.test(l))).toEqual([expect.stringMatching(/\[gateway-submission-auth\] authenticated "app@example\.com" \(PLAIN\)/)])
  })
})
