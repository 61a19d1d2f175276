// Sender authentication on the inbound instance, over real SMTP: SPF
// (haraka-plugin-spf) and DKIM (haraka-plugin-dkim) record, gateway-dmarc
// decides and writes Authentication-Results. DNS comes from a fixture server
// (SPF records, DKIM keys generated here, DMARC policies); messages are signed
// with real RFC 6376 signatures (mailauth's signer through helpers/dkim-sign, not the verifier under test).
// SPF needs a public client address: sessions go through a PROXY-protocol front.

import { generateKeyPairSync } from 'node:crypto'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { QuarantineStore } from '../lib/quarantine/store'
import type { SmtpClient } from '../lib/smtp/client'
import { dkimSigned } from './helpers/dkim-sign'
import { FixtureDns } from './helpers/dns-server'
import { delivered, gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage } from './helpers/gateway'
import type { ReceivedMessage } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'

const AUTHSERV = 'mx.gateway.test'
// Announced through the front; 198.18/15 is neither private nor loopback for Haraka.
const SPF_CLIENT = '198.18.0.20'
const OTHER_CLIENT = '198.18.0.21'

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
})

const block = addressBlock()
const dns = new FixtureDns(block.ip(53), 5353)
  .add('sel1._domainkey.signed.test', { type: 'TXT', data: `v=DKIM1; k=rsa; p=${publicKey.toString('base64')}` })
  .add('_dmarc.signed.test', { type: 'TXT', data: 'v=DMARC1; p=reject' })
  .add('spf.test', { type: 'TXT', data: `v=spf1 ip4:${SPF_CLIENT} -all` })
  .add('bounces.aligned.test', { type: 'TXT', data: `v=spf1 ip4:${SPF_CLIENT} -all` })
  .add('_dmarc.aligned.test', { type: 'TXT', data: 'v=DMARC1; p=reject' })
  .add('_dmarc.reject.test', { type: 'TXT', data: 'v=DMARC1; p=reject' })
  .add('_dmarc.held.test', { type: 'TXT', data: 'v=DMARC1; p=quarantine' })
  .add('_dmarc.monitored.test', { type: 'TXT', data: 'v=DMARC1; p=none; rua=mailto:dmarc@monitored.test' })
  .add('_dmarc.org.test', { type: 'TXT', data: 'v=DMARC1; p=none; sp=reject' })

/** The inbound files of a gateway with sender authentication (behind the fixture's PROXY front). */
function authFiles(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'inbound/config/me': `${AUTHSERV}\n`,
    // the shipped pipeline plus spf, dkim and gateway-dmarc where they belong
    'inbound/config/plugins': [
      'gateway-core',
      'tls',
      'gateway-stats',
      'gateway-refuse-auth',
      'gateway-recipient-limit',
      'gateway-accepted-domains',
      'spf',
      'dkim',
      'gateway-dmarc',
      'gateway-spool',
      'gateway-routing',
      '',
    ].join('\n'),
    ...extra,
  }
}

// the shipped spf.ini, dkim.ini and gateway-dmarc.ini
const { sink: internal, gw, front } = gatewayWithSink({ block, dns, front: [20, 21], files: authFiles() })

const sign = (message: string, domain: string, selector = 'sel1'): Promise<string> => dkimSigned(message, { domain, selector, privateKey })

/** One message in one session; returns the final reply (or the first refusal). */
async function deliver(session: Promise<{ client: SmtpClient }>, from: string, message: string) {
  const { client } = await session
  await client.ehlo('mta.sender.test')
  const r = await sendMail(client, { from, to: ['user@example.com'] }, message)
  await client.quit()
  return r.end ?? r.data ?? r.rcpts[0] ?? r.mail
}

/** Values of a header field in a raw message, unfolded. */
function fields(raw: string, name: string): string[] {
  const head = raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ')
  const prefix = `${name.toLowerCase()}:`
  return head
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(prefix))
    .map((l) => l.slice(prefix.length).trim())
}

/** The one Authentication-Results field, which must be ours. */
function ourResults(msg: ReceivedMessage): string {
  const ar = fields(msg.raw, 'Authentication-Results')
  expect(ar).toHaveLength(1)
  expect(ar[0]!.startsWith(`${AUTHSERV};`)).toBe(true)
  return ar[0]!
}

describe('SPF (recorded by haraka-plugin-spf, acted on by gateway-dmarc)', () => {
  it('records pass for a client the domain authorizes', async () => {
    const { text, marker } = testMessage({ from: 'a@spf.test', to: 'user@example.com' })
    const end = await deliver(front.connect(SPF_CLIENT), 'a@spf.test', text)
    expect([end.code, end.enhanced]).toEqual([250, '2.0.0'])
    const msg = await delivered(internal, marker)
    expect(ourResults(msg)).toContain('spf=pass smtp.mailfrom=spf.test')
    expect(fields(msg.raw, 'X-Gateway-Checks')).toEqual([])
    // the plugin asked the fixture server (GATEWAY_DNS_SERVERS reaches it), not the Internet
    expect(dns.queries).toContain('TXT spf.test')
  })

  it('records fail for any other client and tags the message (default action)', async () => {
    const { text, marker } = testMessage({ from: 'a@spf.test', to: 'user@example.com' })
    const end = await deliver(front.connect(OTHER_CLIENT), 'a@spf.test', text)
    expect(end.code).toBe(250)
    const msg = await delivered(internal, marker)
    expect(ourResults(msg)).toContain('spf=fail smtp.mailfrom=spf.test')
    expect(fields(msg.raw, 'X-Gateway-Checks')).toEqual(['spf=fail (tag)'])
    expect(fields(msg.raw, 'X-Gateway-Tag')).toEqual(['spf: SPF fail for spf.test'])
  })
})

describe('DKIM (verified by haraka-plugin-dkim)', () => {
  it('a valid signature passes', async () => {
    const { text, marker } = testMessage({ from: 'a@signed.test', to: 'user@example.com' })
    expect((await deliver(gw.connect('inbound'), 'a@signed.test', await sign(text, 'signed.test'))).code).toBe(250)
    const msg = await delivered(internal, marker)
    expect(ourResults(msg)).toMatch(/dkim=pass header\.i=@signed\.test header\.d=signed\.test header\.s=sel1/)
    expect(fields(msg.raw, 'X-Gateway-Checks')).toEqual([])
    expect(dns.queries).toContain('TXT sel1._domainkey.signed.test')
  })

  it('a body changed after signing fails, and the message is tagged (default action)', async () => {
    const { text, marker } = testMessage({ from: 'a@spf.test', to: 'user@example.com' })
    const tampered = (await sign(text, 'signed.test')).replace(`Body ${marker}`, `B0dy ${marker}`)
    expect((await deliver(gw.connect('inbound'), 'a@spf.test', tampered)).code).toBe(250)
    const msg = await delivered(internal, marker)
    expect(ourResults(msg)).toMatch(/dkim=fail \(body hash did not verify\) .*header\.d=signed\.test/)
    expect(fields(msg.raw, 'X-Gateway-Checks')).toEqual(['dkim=fail (tag)'])
  })

  it('a signature whose key is not in DNS is a permerror and, like no signature, no finding', async () => {
    const { text, marker } = testMessage({ from: 'a@signed.test', to: 'user@example.com' })
    const end = await deliver(gw.connect('inbound'), 'a@signed.test', await sign(text, 'signed.test', 'nokey'))
    // ... but it does not authenticate signed.test either: its p=reject applies
    expect([end.code, end.enhanced]).toEqual([550, '5.7.1'])
    const { text: other, marker: otherMarker } = testMessage({ from: 'a@elsewhere.test', to: 'user@example.com' })
    expect((await deliver(gw.connect('inbound'), 'a@elsewhere.test', await sign(other, 'signed.test', 'nokey'))).code).toBe(250)
    const msg = await delivered(internal, otherMarker)
    expect(ourResults(msg)).toMatch(/dkim=permerror \(no key for signature\) .*header\.s=nokey/)
    expect(fields(msg.raw, 'X-Gateway-Checks')).toEqual([])
    expect(internal.messages.some((m) => m.raw.includes(marker))).toBe(false)
  })
})

describe('DMARC (gateway-dmarc)', () => {
  it('p=reject without an aligned pass: 550 5.7.1 after DATA and nothing delivered', async () => {
    // signed, but by another domain than the From domain: DKIM passes, DMARC does not
    const { text, marker } = testMessage({ from: 'ceo@reject.test', to: 'user@example.com' })
    const end = await deliver(gw.connect('inbound'), 'ceo@reject.test', await sign(text, 'signed.test'))
    expect([end.code, end.enhanced, end.text]).toEqual([550, '5.7.1', '5.7.1 Message rejected by the sender domain policy (DMARC)'])
    expect(gw.queueFiles('inbound')).toEqual([])
    // a later message arrives; the refused one never does
    const { text: next, marker: nextMarker } = testMessage({ from: 'a@signed.test', to: 'user@example.com' })
    expect((await deliver(gw.connect('inbound'), 'a@signed.test', await sign(next, 'signed.test'))).code).toBe(250)
    await delivered(internal, nextMarker)
    expect(internal.messages.some((m) => m.raw.includes(marker))).toBe(false)
  })

  it('a subdomain without its own record gets the organizational domain\'s sp=reject', async () => {
    const { text } = testMessage({ from: 'news@mail.org.test', to: 'user@example.com' })
    const end = await deliver(gw.connect('inbound'), 'news@mail.org.test', text)
    expect([end.code, end.enhanced]).toEqual([550, '5.7.1'])
  })

  it('passes with an aligned DKIM signature: delivered with dkim=pass and dmarc=pass', async () => {
    const { text, marker } = testMessage({ from: 'a@signed.test', to: 'user@example.com' })
    const end = await deliver(gw.connect('inbound'), 'bounce@elsewhere.test', await sign(text, 'signed.test'))
    expect(end.code).toBe(250)
    const ar = ourResults(await delivered(internal, marker))
    expect(ar).toContain('dkim=pass')
    expect(ar).toContain('dmarc=pass (p=reject) header.from=signed.test')
  })

  it('passes with an aligned SPF pass (relaxed: the MAIL FROM subdomain counts)', async () => {
    const { text, marker } = testMessage({ from: 'a@aligned.test', to: 'user@example.com' })
    expect((await deliver(front.connect(SPF_CLIENT), 'x@bounces.aligned.test', text)).code).toBe(250)
    const ar = ourResults(await delivered(internal, marker))
    expect(ar).toContain('spf=pass smtp.mailfrom=bounces.aligned.test')
    expect(ar).toContain('dkim=none')
    expect(ar).toContain('dmarc=pass (p=reject) header.from=aligned.test')
  })

  it('p=none failure: delivered and tagged', async () => {
    const { text, marker } = testMessage({ from: 'a@monitored.test', to: 'user@example.com' })
    expect((await deliver(gw.connect('inbound'), 'a@monitored.test', text)).code).toBe(250)
    const msg = await delivered(internal, marker)
    expect(ourResults(msg)).toContain('dmarc=fail (p=none) header.from=monitored.test')
    expect(fields(msg.raw, 'X-Gateway-Checks')).toEqual(['dmarc=fail_p_none (tag)'])
    expect(fields(msg.raw, 'X-Gateway-Tag')).toEqual(['dmarc: DMARC fail for monitored.test (p=none)'])
  })

  it('p=quarantine failure: accepted with 250, held in the quarantine, not delivered', async () => {
    const store = new QuarantineStore(path.join(gw.root, 'inbound', 'quarantine'))
    const { text, marker } = testMessage({ from: 'a@held.test', to: 'user@example.com' })
    const end = await deliver(gw.connect('inbound'), 'a@held.test', text)
    expect([end.code, end.enhanced]).toEqual([250, '2.0.0'])
    const held = store.list().filter((e) => e.messageId.includes(marker))
    expect(held.map((e) => [e.check, e.result])).toEqual([['dmarc', 'fail_p_quarantine']])
    expect(store.get(held[0]!.id)!.message.toString()).toContain('dmarc=fail (p=quarantine) header.from=held.test')
    expect(internal.messages.some((m) => m.raw.includes(marker))).toBe(false)
  })
})

describe('DNS answers kept for their TTL ([dns] txt_cache_max_ttl)', () => {
  it('five messages, SPF-authorized and DKIM-signed: the SPF record, DKIM key and DMARC policy are asked at most once each', async () => {
    const names = ['TXT bounces.aligned.test', 'TXT sel1._domainkey.signed.test', 'TXT _dmarc.signed.test']
    const asked = () => names.map((n) => dns.queries.filter((q) => q === n).length)
    const before = asked()
    for (let i = 0; i < 5; i++) {
      const { text, marker } = testMessage({ from: 'a@signed.test', to: 'user@example.com' })
      expect((await deliver(front.connect(SPF_CLIENT), 'x@bounces.aligned.test', await sign(text, 'signed.test'))).code).toBe(250)
      const ar = ourResults(await delivered(internal, marker))
      expect(ar).toContain('spf=pass smtp.mailfrom=bounces.aligned.test')
      expect(ar).toContain('dmarc=pass (p=reject) header.from=signed.test')
    }
    // the fixture's TTL is 60 s: one query per name at most (none when an earlier test asked within the minute)
    const after = asked()
    for (const [i, name] of names.entries()) expect(after[i]! - before[i]!, name).toBeLessThanOrEqual(1)
    expect(after.reduce((a, b) => a + b, 0)).toBeGreaterThan(0) // the records were looked up at all
  })
})

describe('Authentication-Results from outside', () => {
  it('fields claiming our authserv-id are deleted in both names and any syntax; others are kept as Original-Authentication-Results', async () => {
    const { text, marker } = testMessage({
      from: 'a@signed.test',
      to: 'user@example.com',
      headers: [
        `Authentication-Results: ${AUTHSERV}; dmarc=pass header.from=forged-1.test`,
        `Authentication-Results: (trust me) "MX.Gateway.Test"; dkim=pass header.d=forged-2.test`,
        `Original-Authentication-Results: ${AUTHSERV}; spf=pass smtp.mailfrom=forged-3.test`,
        // obsolete syntax: Haraka's header map (and its own renaming) does not see this one
        `Authentication-Results : ${AUTHSERV}; dmarc=pass header.from=forged-4.test`,
        'Authentication-Results: mx.partner.test; spf=pass smtp.mailfrom=partner.test',
      ],
    })
    expect((await deliver(gw.connect('inbound'), 'a@signed.test', await sign(text, 'signed.test'))).code).toBe(250)
    const msg = await delivered(internal, marker)
    expect(msg.raw).not.toContain('forged-')
    expect(ourResults(msg)).toContain('dmarc=pass')
    expect(fields(msg.raw, 'Original-Authentication-Results')).toEqual(['mx.partner.test; spf=pass smtp.mailfrom=partner.test'])
  })
})

describe('configured actions', () => {
  const {
    sink: sink2,
    gw: trial,
    front: front2,
    startRefused,
  } = gatewayWithSink({
    dnsServer: dns.address,
    front: [20],
    files: authFiles({ 'inbound/config/gateway-dmarc.ini': '[dmarc]\np_reject_action=monitor\n[dkim]\nfail_action=reject\n[spf]\nfail_action=reject\n' }),
  })

  it('reject for SPF: refused at MAIL FROM with 550 5.7.23; the authorized client gets through', async () => {
    const { client } = await front2.connect(OTHER_CLIENT)
    await client.ehlo('mta.sender.test')
    const refused = await client.send('MAIL FROM:<a@spf.test>')
    expect([refused.code, refused.enhanced, refused.text]).toEqual([550, '5.7.23', '5.7.23 Sender address not authorized for this client (SPF)'])
    await client.quit()
    const { client: ok } = await front2.connect(SPF_CLIENT)
    await ok.ehlo('mta.sender.test')
    expect((await ok.send('MAIL FROM:<a@spf.test>')).code).toBe(250)
    await ok.quit()
  })

  it('monitor: a p=reject failure is delivered untouched, the decision only listed in X-Gateway-Checks', async () => {
    const { client } = await trial.connect('inbound')
    await client.ehlo('mta.sender.test')
    const { text, marker } = testMessage({ from: 'ceo@reject.test', to: 'user@example.com' })
    const r = await sendMail(client, { from: 'ceo@reject.test', to: ['user@example.com'] }, text)
    await client.quit()
    expect(r.end!.code).toBe(250)
    const msg = await delivered(sink2, marker)
    expect(ourResults(msg)).toContain('dmarc=fail (p=reject) header.from=reject.test')
    expect(fields(msg.raw, 'X-Gateway-Checks')).toEqual(['dmarc=fail_p_reject (monitor)'])
    expect(fields(msg.raw, 'X-Gateway-Tag')).toEqual([])
  })

  it('reject for DKIM: a broken signature is refused with 550 5.7.20', async () => {
    const { client } = await trial.connect('inbound')
    await client.ehlo('mta.sender.test')
    const { text, marker } = testMessage({ from: 'a@elsewhere.test', to: 'user@example.com' })
    const tampered = (await sign(text, 'signed.test')).replace(`Body ${marker}`, `B0dy ${marker}`)
    const r = await sendMail(client, { from: 'a@elsewhere.test', to: ['user@example.com'] }, tampered)
    await client.quit()
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([550, '5.7.20', '5.7.20 No valid DKIM signature found'])
  })

  it('an unknown action stops the instance with a configuration error naming file and key', async () => {
    const { code, stderr } = await startRefused('inbound', { files: { 'inbound/config/gateway-dmarc.ini': '[dmarc]\np_reject_action=bounce\n' } })
    expect(code).toBe(78)
    expect(stderr).toMatch(/gateway-dmarc\.ini:2: \[dmarc\] p_reject_action: "bounce" is not one of: reject, tempfail, quarantine, tag, accept, monitor/)
  })
})
