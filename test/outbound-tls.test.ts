// TLS policy of the outbound instance, over real SMTP to real remote MX servers:
// opportunistic STARTTLS for every domain, and for the domains listed in
// gateway-tls-policy.ini TLS with a verified certificate or no delivery at all
// (the mail waits in the queue, it is never sent in clear).

import path from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { listQueue } from '../lib/queue/qfile'
import { FixtureDns } from './helpers/dns-server'
import { gatewayWithSink } from './helpers/fixtures'
import { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'
import { addRelayUser, outboundPluginsWith, submit } from './helpers/outbound-queue'
import { TestCa } from './helpers/test-ca'

const block = addressBlock()
const ca = new TestCa('Partner CA')
const rogueCa = new TestCa('Unknown CA')

// one remote MX per situation, each on its own address (port 25, as MX hosts are)
const mx = {
  clearPartner: { ip: block.ip(10), name: 'mx.clear-partner.test' },
  partner: { ip: block.ip(11), name: 'mx.partner.test' },
  roguePartner: { ip: block.ip(12), name: 'mx.rogue-partner.test' },
  misnamedPartner: { ip: block.ip(13), name: 'mx.misnamed-partner.test' },
  ordinary: { ip: block.ip(14), name: 'mx.ordinary.test' },
  ordinaryClear: { ip: block.ip(15), name: 'mx.ordinary-clear.test' },
}
const dns = new FixtureDns(block.ip(53), 5353)
for (const [domain, m] of [
  ['clear-partner.test', mx.clearPartner],
  ['partner.test', mx.partner],
  ['rogue-partner.test', mx.roguePartner],
  ['misnamed-partner.test', mx.misnamedPartner],
  ['ordinary.test', mx.ordinary],
  ['ordinary-clear.test', mx.ordinaryClear],
] as const) {
  dns.add(domain, { type: 'MX', preference: 10, exchange: m.name }).add(m.name, { type: 'A', data: m.ip })
}

const sinks = {
  clearPartner: new MailSink({ host: mx.clearPartner.ip, port: 25 }), // no STARTTLS
  partner: new MailSink({ host: mx.partner.ip, port: 25, tls: ca.issue(mx.partner.name) }),
  roguePartner: new MailSink({ host: mx.roguePartner.ip, port: 25, tls: rogueCa.issue(mx.roguePartner.name) }),
  misnamedPartner: new MailSink({ host: mx.misnamedPartner.ip, port: 25, tls: ca.issue('somewhere-else.test') }),
  ordinary: new MailSink({ host: mx.ordinary.ip, port: 25, tls: rogueCa.issue(mx.ordinary.name) }),
  ordinaryClear: new MailSink({ host: mx.ordinaryClear.ip, port: 25 }),
}
const USER = 'app@example.com'

const { gw, startRefused } = gatewayWithSink({
  block,
  dns,
  // the current sinks when stopping: a test replaces one
  services: [{ start: () => Promise.all(Object.values(sinks).map((s) => s.start())), stop: () => Promise.all(Object.values(sinks).map((s) => s.stop())) }],
  instances: ['outbound'],
  files: {
    'outbound/config/plugins': outboundPluginsWith('gateway-queue', 'gateway-bounce', 'gateway-tls-policy'),
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
    // upper case on purpose: the list is matched case-insensitively
    'outbound/config/gateway-tls-policy.ini': [
      '[require]',
      'domains[]=clear-partner.test',
      'domains[]=Partner.Test',
      'domains[]=rogue-partner.test',
      'domains[]=misnamed-partner.test',
      'ca_file=partner-ca.pem',
      '',
    ].join('\n'),
    'outbound/config/partner-ca.pem': ca.cert,
  },
  prepare: ({ gw }) => addRelayUser(gw, USER),
})
afterAll(() => {
  ca.remove()
  rogueCa.remove()
})

function queuedFor(domain: string): number {
  return listQueue(path.join(gw.root, 'outbound', 'queue')).filter((m) => m.todo?.domain === domain).length
}

describe('outbound TLS: domains that require verified TLS', () => {
  it('never sends in clear to an MX without STARTTLS: the mail stays queued, then goes once TLS is there', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['someone@clear-partner.test'] })
    await gw.waitForLog('outbound', /Temp failing \S+ for \d+ seconds: No TLS available but required by configuration/)
    expect(sinks.clearPartner.sessions).toEqual([]) // the gateway never reached MAIL FROM
    expect(sinks.clearPartner.messages).toEqual([])
    expect(queuedFor('clear-partner.test')).toBe(1)

    // the partner turns STARTTLS on (certificate from the trusted CA): the waiting mail goes, encrypted
    await sinks.clearPartner.stop()
    sinks.clearPartner = new MailSink({ host: mx.clearPartner.ip, port: 25, tls: ca.issue(mx.clearPartner.name) })
    await sinks.clearPartner.start()
    gw.flushQueue('outbound')
    const [msg] = await sinks.clearPartner.waitFor(1)
    expect(msg!.raw).toContain(marker)
    expect(msg!.secure).toBe(true)
  })

  it('delivers over TLS when the MX certificate chains to the configured CA and names the MX', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['someone@partner.test'] })
    const [msg] = await sinks.partner.waitFor(1)
    expect(msg!.raw).toContain(marker)
    expect(msg!.secure).toBe(true)
    expect(sinks.partner.sessions.every((s) => s.secure)).toBe(true)
    expect(gw.log('outbound')).toMatch(/TLS required for partner\.test/)
    expect(gw.log('outbound')).toMatch(/\[outbound\] secured verified=true [^\n]*cn=mx\.partner\.test/)
  })

  for (const [label, domain, sink, ip] of [
    ['a certificate from an unknown CA', 'rogue-partner.test', () => sinks.roguePartner, mx.roguePartner.ip],
    ['a certificate for another host name', 'misnamed-partner.test', () => sinks.misnamedPartner, mx.misnamedPartner.ip],
  ] as const) {
    it(`does not deliver to an MX presenting ${label}: temp-failed, still queued`, async () => {
      await submit(gw, { user: USER, from: USER, to: [`someone@${domain}`] })
      await gw.waitForLog('outbound', new RegExp(`Ongoing connection failed to ${ip.replace(/\./g, '\\.')}:25`))
      await gw.waitForLog('outbound', new RegExp(`TLS required for ${domain.replace(/\./g, '\\.')}`))
      expect(sink().sessions).toEqual([]) // no MAIL FROM, encrypted or not
      expect(sink().messages).toEqual([])
      expect(queuedFor(domain)).toBe(1)
    })
  }
})

describe('outbound TLS: opportunistic for every other domain', () => {
  it('uses STARTTLS when the MX offers it, whatever its certificate', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['someone@ordinary.test'] })
    const [msg] = await sinks.ordinary.waitFor(1)
    expect(msg!.raw).toContain(marker)
    expect(msg!.secure).toBe(true)
  })

  it('still delivers in clear to an MX without STARTTLS when the domain is not listed', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['someone@ordinary-clear.test'] })
    const [msg] = await sinks.ordinaryClear.waitFor(1)
    expect(msg!.raw).toContain(marker)
    expect(msg!.secure).toBe(false)
  })
})

describe('outbound TLS: configuration errors stop the instance', () => {
  for (const [label, ini, problem] of [
    ['a missing CA file', '[require]\ndomains[]=partner.test\nca_file=nowhere.pem\n', /gateway-tls-policy\.ini: \[require\] ca_file: \S*nowhere\.pem does not exist/],
    ['a CA file without certificates', '[require]\ndomains[]=partner.test\nca_file=gateway-tls-policy.ini\n', /\[require\] ca_file: contains no PEM certificate/],
    ['a domain that is not one', '[require]\ndomains[]=partner test\n', /gateway-tls-policy\.ini:2: \[require\] domains: "partner test" is not a domain name/],
  ] as const) {
    it(`refuses ${label} (exit 78, file and key named)`, async () => {
      const r = await startRefused('outbound', { files: { 'outbound/config/plugins': outboundPluginsWith('gateway-tls-policy'), 'outbound/config/gateway-tls-policy.ini': ini } })
      expect(r.code).toBe(78)
      expect(r.stderr).toMatch(problem)
    })
  }
})
