// Unit test of gateway-tls-policy (outbound, no SMTP hooks): with required domains it
// switches Haraka's forced-TLS path on for exactly those recipient domains (case and
// trailing dot folded, subdomains not included) and leaves every other delivery to
// Haraka's own decision; with a CA bundle every outgoing STARTTLS trusts it besides
// the system's. Haraka's internals are stand-ins passed through the harness's
// `haraka` option. Without domains it changes nothing. Bad domains and a missing or
// broken CA bundle are refused with file and key; the plugin is outbound only.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { rootCertificates } from 'node:tls'

import { afterAll, describe, expect, it } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeQueuedMail, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-tls-policy-test-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const caFile = path.join(dir, 'partners-ca.pem')
fs.writeFileSync(caFile, `${rootCertificates[0]}\n`)
const brokenCa = path.join(dir, 'broken.pem')
fs.writeFileSync(brokenCa, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')

/** Stand-ins for Haraka's outbound/hmail (HMailItem) and outbound/tls, fresh per test (the patches apply once per module). */
function harakaStandIns(harakaForcesTls = false) {
  class HMailItem {
    get_force_tls(_mx: unknown): boolean {
      return harakaForcesTls
    }
  }
  const tls = { get_tls_options: (mx: { exchange: string }) => ({ servername: mx.exchange }) as Record<string, unknown> }
  return { HMailItem, tls, haraka: { './outbound/hmail': HMailItem, './outbound/tls': tls } }
}

function forcesTls(proto: { get_force_tls(mx: unknown): boolean }, domain: string) {
  const hmail = fakeQueuedMail({ domain, to: ['user@partner.example'] })
  return { forced: proto.get_force_tls.call(hmail, { exchange: `mx.${domain}` }), log: hmail.log }
}

describe('gateway-tls-policy', () => {
  it('without required domains changes nothing: no hook, no patch', () => {
    const s = harakaStandIns()
    const h = pluginHarness(plugin, { haraka: s.haraka })
    expect(h.hooks).toEqual([])
    expect(h.log).toEqual([])
    expect(forcesTls(s.HMailItem.prototype, 'partner.example').forced).toBe(false)
  })

  it('forces verified TLS for the listed domains only, case-insensitively, and logs why', () => {
    const s = harakaStandIns()
    const h = pluginHarness(plugin, { haraka: s.haraka, ini: '[require]\ndomains[]=Partner.example\ndomains[]=bank.example\n' })
    expect(h.hooks).toEqual([])
    expect(h.log).toEqual(['INFO [gateway-tls-policy] TLS required (verified) for: bank.example partner.example'])
    const listed = forcesTls(s.HMailItem.prototype, 'PARTNER.example')
    expect(listed.forced).toBe(true)
    expect(listed.log).toEqual(['INFO [gateway-tls-policy] TLS required for PARTNER.example: STARTTLS with a verified certificate or no delivery'])
    expect(forcesTls(s.HMailItem.prototype, 'bank.example.').forced).toBe(true)
    for (const domain of ['mail.partner.example', 'elsewhere.test', 'constructor', '__proto__']) {
      const other = forcesTls(s.HMailItem.prototype, domain)
      expect(other).toEqual({ forced: false, log: [] })
    }
    // the CA options are untouched without ca_file
    expect(s.tls.get_tls_options({ exchange: 'mx.partner.example' })).toEqual({ servername: 'mx.partner.example' })
  })

  it("keeps Haraka's own forced-TLS decision (tls.ini force_tls_hosts) for other domains", () => {
    const s = harakaStandIns(true)
    pluginHarness(plugin, { haraka: s.haraka, ini: '[require]\ndomains[]=partner.example\n' })
    expect(forcesTls(s.HMailItem.prototype, 'elsewhere.test').forced).toBe(true)
  })

  it('trusts the CA bundle for every outgoing STARTTLS, besides what Haraka set', () => {
    const s = harakaStandIns()
    const h = pluginHarness(plugin, { haraka: s.haraka, ini: `[require]\ndomains[]=partner.example\nca_file=${caFile}\n` })
    expect(h.log).toEqual([`INFO [gateway-tls-policy] TLS required (verified) for: partner.example; extra CAs from ${caFile}`])
    const opts = s.tls.get_tls_options({ exchange: 'mx.elsewhere.test' })
    expect(opts.servername).toBe('mx.elsewhere.test')
    expect(opts.ca).toEqual([...rootCertificates, rootCertificates[0]!.trim()]) // the system's, then the bundle's
  })

  it('refuses a bad domain, a missing or broken CA bundle, with file and key', () => {
    const s = harakaStandIns()
    expect(() => pluginHarness(plugin, { haraka: s.haraka, ini: '[require]\ndomains[]=partner.example\ndomains[]=not a domain\n' })).toThrow(
      /gateway-tls-policy\.ini:\d+: \[require\] domains: "not a domain" is not a domain name/,
    )
    expect(() => pluginHarness(plugin, { haraka: s.haraka, ini: `[require]\ndomains[]=partner.example\nca_file=${path.join(dir, 'missing.pem')}\n` })).toThrow(
      /gateway-tls-policy\.ini: \[require\] ca_file: .*missing\.pem does not exist/,
    )
    expect(() => pluginHarness(plugin, { haraka: s.haraka, ini: `[require]\ndomains[]=partner.example\nca_file=${brokenCa}\n` })).toThrow(
      /gateway-tls-policy\.ini: \[require\] ca_file: certificate 1 is not valid/,
    )
  })

  it('runs in the outbound instance only', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['outbound'], hooks: [] })
    expect(instanceProblem(declarationOf(plugin)!, 'inbound')).toBe('runs in the outbound instance only: remove it from the inbound instance')
  })
})
