// The outbound (internal relay) instance, over real SMTP: AUTH only after
// STARTTLS, never relay without it (from loopback too), delivery by MX found in
// DNS, from the configured source address and HELO name.

import { describe, expect, it } from 'vitest'

import { base64, type SmtpClient } from '../lib/smtp/client'
import { addUser, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail, testMessage } from './helpers/gateway'
import type { AddressBlock } from './helpers/net'

const PASSWORD = 'correct horse battery'
const HELO = 'relay.example.com'
const sourceIp = (block: AddressBlock) => block.ip(77)

const { block, internal, remoteMx, dns, gw } = outboundWithPartnerMx({
  files: (block) => ({
    'outbound/config/gateway-routing.ini': `[internet]\nsource_ip=${sourceIp(block)}\nhelo=${HELO}\n`,
    // the failure delay is tested by timing nothing; keep the suite fast
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\nmax_failures=3\n',
  }),
  prepare: ({ gw }) => addUser(gw, 'app@example.com', PASSWORD),
})
const SOURCE_IP = sourceIp(block)

async function tlsSession(): Promise<SmtpClient> {
  const { client } = await gw.connect('outbound')
  await client.ehlo()
  expect((await client.startTls()).code).toBe(220)
  return client
}

describe('outbound: AUTH only inside TLS', () => {
  it('does not advertise AUTH in clear text, even to loopback, and refuses it with 530 5.7.0', async () => {
    const { client } = await gw.connect('outbound', '127.0.0.1')
    const { extensions } = await client.ehlo()
    expect(extensions).toContain('STARTTLS')
    expect(extensions.some((e) => e.startsWith('AUTH'))).toBe(false)
    const r = await client.send(`AUTH PLAIN ${base64(`\0app@example.com\0${PASSWORD}`)}`)
    expect([r.code, r.enhanced]).toEqual([530, '5.7.0'])
    await client.quit()
  })

  it('advertises AUTH PLAIN LOGIN after STARTTLS and accepts the right password', async () => {
    const client = await tlsSession()
    const { extensions } = await client.ehlo()
    expect(extensions).toContain('AUTH PLAIN LOGIN')
    const r = await client.send(`AUTH PLAIN ${base64(`\0app@example.com\0${PASSWORD}`)}`)
    expect([r.code, r.enhanced]).toEqual([235, '2.7.0'])
    const again = await client.send('AUTH LOGIN')
    expect([again.code, again.enhanced]).toEqual([503, '5.5.1'])
    await client.quit()
  })

  it('supports AUTH LOGIN step by step', async () => {
    const client = await tlsSession()
    await client.ehlo()
    expect((await client.send('AUTH LOGIN')).code).toBe(334)
    expect((await client.send(base64('app@example.com'))).code).toBe(334)
    const r = await client.send(base64(PASSWORD))
    expect([r.code, r.enhanced]).toEqual([235, '2.7.0'])
    await client.quit()
  })

  it('answers a wrong password and an unknown user identically, then closes after too many failures', async () => {
    const client = await tlsSession()
    await client.ehlo()
    const wrong = await client.send(`AUTH PLAIN ${base64('\0app@example.com\0wrong password')}`)
    const unknown = await client.send(`AUTH PLAIN ${base64(`\0nobody@example.com\0${PASSWORD}`)}`)
    expect([wrong.code, wrong.text]).toEqual([535, '5.7.8 Authentication credentials invalid'])
    expect([unknown.code, unknown.text]).toEqual([wrong.code, wrong.text])
    const third = await client.send(`AUTH PLAIN ${base64('\0app@example.com\0still wrong')}`)
    expect([third.code, third.enhanced]).toEqual([421, '4.7.0'])
    await client.waitClosed()
    expect(gw.log('outbound')).toMatch(/\[gateway-submission-auth\] authentication failed for "nobody@example.com"/)
  })

  it('does not let an AUTH exchange finish around a MAIL command (MAIL judged before the identity)', async () => {
    const client = await tlsSession()
    await client.ehlo()
    expect((await client.send('AUTH LOGIN')).code).toBe(334)
    // RFC 4954: the line after a 334 is the response, whatever it says; this one is not base64
    const mail = await client.send('MAIL FROM:<ceo@victim.test>')
    expect([mail.code, mail.enhanced]).toEqual([501, '5.5.2'])
    // the exchange is over: the next line is a command again, and nothing relays
    expect((await client.send(base64('app@example.com'))).code).toBe(500)
    await client.send('MAIL FROM:<ceo@victim.test>')
    expect((await client.send('RCPT TO:<x@partner.test>')).code).toBe(530)
    await client.quit()
  })

  it('is immune to prototype names as user names', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const client = await tlsSession()
      await client.ehlo()
      const r = await client.send(`AUTH PLAIN ${base64(`\0${name}\0function Object() { [native code] }`)}`)
      expect([name, r.code, r.enhanced]).toEqual([name, 535, '5.7.8'])
      await client.send('MAIL FROM:<a@example.com>')
      expect((await client.send('RCPT TO:<x@partner.test>')).code).toBe(530)
      await client.quit()
    }
  })
})

describe('outbound: no relay without authentication', () => {
  for (const [label, from] of [
    ['from loopback', '127.0.0.1'],
    ['from another local address', block.ip(99)],
  ] as const) {
    it(`refuses RCPT with 530 5.7.0 ${label}, with and without TLS`, async () => {
      const { client } = await gw.connect('outbound', from)
      await client.ehlo()
      await client.send('MAIL FROM:<ceo@example.com>')
      for (const to of ['x@partner.test', 'colleague@example.com']) {
        const r = await client.send(`RCPT TO:<${to}>`)
        expect([to, r.code, r.enhanced]).toEqual([to, 530, '5.7.0'])
      }
      await client.startTls()
      await client.ehlo()
      await client.send('MAIL FROM:<ceo@example.com>')
      const r = await client.send('RCPT TO:<x@partner.test>')
      expect([r.code, r.enhanced]).toEqual([530, '5.7.0'])
      await client.quit()
    })
  }
})

describe('outbound: authenticated relay', () => {
  it('delivers to the MX from DNS, from the configured source IP and HELO, with the exact message', async () => {
    const client = await tlsSession()
    await client.ehlo()
    expect((await client.send(`AUTH PLAIN ${base64(`\0app@example.com\0${PASSWORD}`)}`)).code).toBe(235)
    const { text, marker } = testMessage({ from: 'app@example.com', to: 'someone@partner.test' })
    const r = await sendMail(client, { from: 'app@example.com', to: ['someone@partner.test'] }, text)
    await client.quit()
    expect([r.rcpts[0]!.code, r.end!.code]).toEqual([250, 250])

    const msg = (await remoteMx.waitFor(1)).find((m) => m.raw.includes(marker))!
    expect(msg.to).toEqual(['someone@partner.test'])
    expect(msg.from).toBe('app@example.com')
    expect(msg.remoteAddress).toBe(SOURCE_IP)
    expect(msg.helo).toBe(HELO)
    expect(msg.raw).toContain(`Body ${marker}`)
    expect(dns.queries).toContain('MX partner.test')
  })

  it('asks DNS for a route once per TTL ([dns] mx_cache_max_ttl): MX, A and AAAA of the exchange', async () => {
    const relay = async (n: number) => {
      const client = await tlsSession()
      await client.ehlo()
      expect((await client.send(`AUTH PLAIN ${base64(`\0app@example.com\0${PASSWORD}`)}`)).code).toBe(235)
      const { text, marker } = testMessage({ from: 'app@example.com', to: `route${n}@partner.test` })
      const r = await sendMail(client, { from: 'app@example.com', to: [`route${n}@partner.test`] }, text)
      await client.quit()
      expect(r.end!.code).toBe(250)
      return marker
    }
    const routeQueries = () => dns.queries.filter((q) => / (mx\.)?partner\.test$/.test(q))
    const first = await relay(0)
    await remoteMx.waitForMessage((m) => m.raw.includes(first), "the first message")
    const before = routeQueries().length
    expect(dns.queries).toEqual(expect.arrayContaining(['MX partner.test', 'A mx.partner.test', 'AAAA mx.partner.test']))
    const markers = await Promise.all([1, 2, 3, 4, 5].map(relay))
    for (const m of markers) await remoteMx.waitForMessage((x) => x.raw.includes(m), `message ${m}`)
    expect(routeQueries().slice(before)).toEqual([]) // five deliveries, no DNS question (the fixture's TTL is 60 s)
  })

  it('routes mail for an accepted domain to the internal server, not out by MX', async () => {
    const client = await tlsSession()
    await client.ehlo()
    await client.send(`AUTH PLAIN ${base64(`\0app@example.com\0${PASSWORD}`)}`)
    const { text, marker } = testMessage({ from: 'app@example.com', to: 'colleague@example.com' })
    const r = await sendMail(client, { from: 'app@example.com', to: ['colleague@example.com'] }, text)
    await client.quit()
    expect(r.end!.code).toBe(250)
    const msg = (await internal.waitFor(1)).find((m) => m.raw.includes(marker))!
    expect(msg.to).toEqual(['colleague@example.com'])
    expect(remoteMx.messages.some((m) => m.raw.includes(marker))).toBe(false)
  })
})
