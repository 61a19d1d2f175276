// Anti-spoofing over real SMTP on the inbound instance: our own domains refused
// as sender from the Internet (envelope and header From), allowed senders only
// with aligned SPF (served by the fixture DNS), protected addresses never, and the
// block list with exact and *.domain entries.


import { describe, expect, it } from 'vitest'

import { FixtureDns } from './helpers/dns-server'
import { delivered, gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import type { ProxyFront } from './helpers/proxy-front'

// The SaaS newsletter service sends from its own (public) address, authorised by
// our SPF record. SPF skips loopback clients, so those sessions come through a
// PROXY-protocol front announcing public addresses, as behind a load balancer.
const SAAS_IP = '198.18.0.40'
const OTHER_IP = '198.18.0.41'

const block = addressBlock()
const senderFilterIni = (ini: string) => ({ 'inbound/config/gateway-sender-filter.ini': ini })
const {
  sink,
  gw,
  front,
  variants: { monitor },
} = gatewayWithSink({
  block,
  dns: new FixtureDns(block.ip(53), 5353).add('example.com', { type: 'TXT', data: `v=spf1 ip4:${SAAS_IP} -all` }),
  front: [20],
  acceptedDomains: ['example.com', 'xn--bcher-kva.example'],
  files: senderFilterIni(
    ['[spoofing]', 'allow[]=news@example.com', '[protected]', 'addresses[]=ceo@example.com', '[blocklist]', 'senders[]=*.bad.test', 'senders[]=spammer@evil.test', ''].join('\n'),
  ),
  variants: { monitor: { files: senderFilterIni('[spoofing]\naction=monitor\n') } },
})

async function attempt(gw: TestGateway, opts: { from: string; headerFrom?: string; via?: { front: ProxyFront; ip: string } }) {
  const { client } = opts.via ? await opts.via.front.connect(opts.via.ip) : await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  const { text, marker } = testMessage({ from: opts.headerFrom ?? opts.from, to: 'bob@example.com' })
  const r = await sendMail(client, { from: opts.from, to: ['bob@example.com'] }, text)
  await client.quit()
  return { ...r, marker }
}

describe('sender filter', () => {
  it('refuses MAIL FROM one of our domains with 550 5.7.1 before DATA', async () => {
    const r = await attempt(gw, { from: 'ceo@Example.COM' })
    expect([r.mail.code, r.mail.enhanced]).toEqual([550, '5.7.1'])
    const other = await attempt(gw, { from: 'it-support@example.com' })
    expect([other.mail.code, other.mail.enhanced, other.mail.text]).toEqual([550, '5.7.1', '5.7.1 Sender address rejected: not accepted from the Internet'])
  })

  it('recognises our internationalised domain in its Unicode spelling (SMTPUTF8)', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const r = await client.send('MAIL FROM:<ceo@bücher.example> SMTPUTF8')
    expect([r.code, r.enhanced]).toEqual([550, '5.7.1'])
    await client.quit()
  })

  it('refuses a header From in our domain behind an outside envelope, after DATA, delivering nothing', async () => {
    const r = await attempt(gw, { from: 'bounces@mailer.test', headerFrom: 'ceo@example.com' })
    expect(r.mail.code).toBe(250)
    expect([r.end!.code, r.end!.enhanced]).toEqual([550, '5.7.1'])
    expect(sink.messages.some((m) => m.raw.includes(r.marker))).toBe(false)
  })

  it('reads the header From as mail clients do: comment and quoting tricks, a second From in obsolete syntax', async () => {
    for (const from of ['(") <ceo@example.com> (" (x) friend@partner.test)', '=?utf-8?q?friend=40partner=2Etest_=22?= <ceo@example.com> (")', '<friend@partner.test>\r\nFrom : <ceo@example.com>']) {
      const { client } = await gw.connect('inbound')
      await client.ehlo('mx.sender.test')
      const { text, marker } = testMessage({ from: 'friend@partner.test', to: 'bob@example.com' })
      const r = await sendMail(client, { from: 'friend@partner.test', to: ['bob@example.com'] }, text.replace('From: <friend@partner.test>', `From: ${from}`))
      await client.quit()
      expect([from, r.end!.code, r.end!.enhanced]).toEqual([from, 550, '5.7.1'])
      expect(sink.messages.some((m) => m.raw.includes(marker))).toBe(false)
    }
  })

  it('lets an allowed sender through when SPF aligns, and refuses the same sender from elsewhere', async () => {
    const ok = await attempt(gw, { from: 'news@example.com', via: { front, ip: SAAS_IP } })
    expect([ok.mail.code, ok.end!.code]).toEqual([250, 250])
    await sink.waitFor(1)
    expect(sink.messages.some((m) => m.raw.includes(ok.marker))).toBe(true)

    const forged = await attempt(gw, { from: 'news@example.com', via: { front, ip: OTHER_IP } })
    expect(forged.mail.code).toBe(250) // DKIM might still align it: decided after DATA
    expect([forged.end!.code, forged.end!.enhanced]).toEqual([550, '5.7.1'])
    expect(sink.messages.some((m) => m.raw.includes(forged.marker))).toBe(false)
  })

  it('never lets a protected address in, even from an SPF-authorised host', async () => {
    const r = await attempt(gw, { from: 'news@example.com', headerFrom: 'ceo@example.com', via: { front, ip: SAAS_IP } })
    expect([r.end!.code, r.end!.enhanced]).toEqual([550, '5.7.1'])
  })

  it('refuses block-listed senders: exact address and any subdomain of a *.domain entry', async () => {
    for (const from of ['spammer@evil.test', '"spammer"@evil.test', 'SPAMMER@Evil.Test', 'x@mail.bad.test', 'x@deep.mail.bad.test']) {
      const r = await attempt(gw, { from })
      expect([from, r.mail.code, r.mail.enhanced]).toEqual([from, 550, '5.7.1'])
    }
    const apex = await attempt(gw, { from: 'x@bad.test' }) // *.bad.test does not cover bad.test itself
    expect(apex.end!.code).toBe(250)
    const header = await attempt(gw, { from: 'x@fine.test', headerFrom: 'spammer@evil.test' })
    expect([header.end!.code, header.end!.enhanced]).toEqual([550, '5.7.1'])
  })

  it('lets ordinary Internet senders and bounces through', async () => {
    const r = await attempt(gw, { from: 'friend@partner.test' })
    expect(r.end!.code).toBe(250)
    const bounce = await attempt(gw, { from: '', headerFrom: 'mailer-daemon@partner.test' })
    expect(bounce.end!.code).toBe(250)
  })
})

describe('sender filter in monitor mode', () => {
  it('delivers the spoofed message and records what it would have done', async () => {
    const r = await attempt(monitor, { from: 'ceo@example.com' })
    expect(r.end!.code).toBe(250)
    const before = sink.messages.length
    const msg = (await sink.waitFor(before)).find((m) => m.raw.includes(r.marker)) ?? (await delivered(sink, r.marker))
    expect(msg.raw).toMatch(/^X-Gateway-Checks: sender-spoofing=internal_domain_envelope \(monitor\); sender-spoofing=internal_domain_header \(monitor\)\r$/m)
  })
})
