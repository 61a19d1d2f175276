// Unit test of gateway-outbound-scrub (outbound; before dkim): before mail leaves for
// the Internet, X-Gateway-* fields, configured internal names/prefixes and Received
// hops made inside the organisation are removed, at queue_outbound (continuing to
// gateway-spool) and again at pre_send_trans_email; mail for accepted domains only
// is left alone. With dkim listed and no default key, a message with no DKIM key
// for its domains is marked to skip dkim. The instance config folder ($HARAKA/config)
// is a temporary one per test.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { SKIP_PLUGINS } from '../../lib/plugin/haraka-notes'
import { fakeConnection, fakeTransaction, pluginHarness, testGatewayConfig } from '../../lib/plugin/testing'
import plugin from './plugin'

const gateway = testGatewayConfig({ acceptedDomains: ['example.com'] })
const INTERNAL_HOP = 'Received: from ws17.corp.example.com (ws17.corp.example.com [10.1.2.3]) by relay.example.com with ESMTPSA id 1'
const INTERNET_HOP = 'Received: from mail.partner.test (mail.partner.test [198.51.100.20]) by mx.example.com with ESMTPS id 2'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-outbound-scrub-test-'))
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config', 'plugins'), 'gateway-outbound-scrub\ngateway-spool\n')
  vi.stubEnv('HARAKA', dir)
})
afterEach(() => {
  vi.unstubAllEnvs()
  fs.rmSync(dir, { recursive: true, force: true })
})

function message(to: string[], headers: string[], from = 'alice@example.com') {
  const c = fakeConnection({ relaying: true })
  const txn = fakeTransaction(c, { from, to, headers })
  return { c, txn, fields: () => txn.header.header_list.map((l) => l.trimEnd()) }
}

const HEADERS = [INTERNAL_HOP, INTERNET_HOP, 'X-Gateway-Checks: spam=clean', 'X-Originating-IP: [10.1.2.3]', 'X-MS-Exchange-Organization-AuthAs: Internal', 'From: alice@example.com', 'Subject: hi']
const INI = '[main]\nstrip[]=X-Originating-IP\nstrip_prefix[]=X-MS-Exchange-Organization-\n'

describe('gateway-outbound-scrub', () => {
  it('removes internal fields from mail leaving for the Internet at queue_outbound, and continues', async () => {
    const h = pluginHarness(plugin, { gateway, ini: INI })
    expect(h.hooks).toEqual(['queue_outbound', 'pre_send_trans_email'])
    const { c, txn, fields } = message(['bob@example.com', 'partner@partner.test'], HEADERS)
    expect(await h.run('queue_outbound', c)).toEqual({ result: 'CONT' })
    expect(fields()).toEqual([INTERNET_HOP, 'From: alice@example.com', 'Subject: hi'])
    expect(c.log).toEqual([expect.stringMatching(/^INFO \[gateway-outbound-scrub\] removed 4 internal header field\(s\) at queue_outbound: .*\(1 Received\)$/)])
    expect(txn.results.get('gateway-outbound-scrub')).toEqual({ msg: [expect.stringMatching(/^scrubbed .*x-gateway-checks/)] })
  })

  it('leaves mail for accepted domains only untouched', async () => {
    const h = pluginHarness(plugin, { gateway, ini: INI })
    const { c, txn, fields } = message(['bob@example.com', 'carol@EXAMPLE.com'], HEADERS)
    expect(await h.run('queue_outbound', c)).toEqual({ result: 'CONT' })
    expect(fields()).toEqual(HEADERS)
    expect(c.log).toEqual([])
    expect(txn.results.get('gateway-outbound-scrub')).toBeUndefined()
  })

  it('keeps names that are only prefixes of a configured one, and prototype names', async () => {
    const h = pluginHarness(plugin, { gateway, ini: '[main]\nstrip[]=constructor\nstrip_received=none\n' })
    const kept = [INTERNAL_HOP, 'X-Originating-IP: [10.1.2.3]', '__proto__: x', 'From: alice@example.com']
    const { c, fields } = message(['partner@partner.test'], ['Constructor: y', ...kept])
    expect(await h.run('queue_outbound', c)).toEqual({ result: 'CONT' })
    expect(fields()).toEqual(kept)
  })

  it('strip_received=all removes every Received; internal_networks widens "inside"', async () => {
    const all = pluginHarness(plugin, { gateway, ini: '[main]\nstrip_received=all\n' })
    const m1 = message(['p@partner.test'], [INTERNAL_HOP, INTERNET_HOP, 'Subject: hi'])
    await all.run('queue_outbound', m1.c)
    expect(m1.fields()).toEqual(['Subject: hi'])
    const wide = pluginHarness(plugin, { gateway, ini: '[main]\ninternal_networks[]=198.51.100.0/24\n' })
    const m2 = message(['p@partner.test'], [INTERNAL_HOP, INTERNET_HOP, 'Subject: hi'])
    await wide.run('queue_outbound', m2.c)
    expect(m2.fields()).toEqual(['Subject: hi'])
  })

  it('removes the marks written after queue_outbound at pre_send_trans_email, idempotently', async () => {
    const h = pluginHarness(plugin, { gateway })
    const { c, fields } = message(['p@partner.test'], ['From: alice@example.com'])
    expect(await h.run('queue_outbound', c)).toEqual({ result: 'CONT' })
    c.transaction!.add_header('X-Gateway-Checks', 'content=clean') // gateway-spool's marks
    expect(await h.run('pre_send_trans_email', c)).toEqual({ result: 'CONT' })
    expect(fields()).toEqual(['From: alice@example.com'])
    expect(c.log).toEqual(['INFO [gateway-outbound-scrub] removed 1 internal header field(s) at pre_send_trans_email: x-gateway-checks'])
  })

  describe('with dkim listed and no default key', () => {
    beforeEach(() => {
      fs.writeFileSync(path.join(dir, 'config', 'plugins'), 'gateway-outbound-scrub\ngateway-spool\ndkim\n')
      fs.mkdirSync(path.join(dir, 'config', 'dkim', 'example.com'), { recursive: true })
    })

    it('says at start which domains have keys', () => {
      expect(pluginHarness(plugin, { gateway }).log).toEqual([
        'NOTICE [gateway-outbound-scrub] DKIM keys for: example.com (and their subdomains); mail of other domains is sent unsigned',
      ])
    })

    it('marks a message without a key to skip dkim, and leaves one with a key (or a subdomain) to it', async () => {
      const h = pluginHarness(plugin, { gateway })
      const unsigned = message(['p@partner.test'], ['From: someone@other.test'], 'bounces@other.test')
      SKIP_PLUGINS.set(unsigned.txn, [])
      expect(await h.run('pre_send_trans_email', unsigned.c)).toEqual({ result: 'CONT' })
      expect(SKIP_PLUGINS.get(unsigned.txn)).toEqual(['dkim'])
      expect(unsigned.c.log).toEqual([expect.stringMatching(/^INFO \[gateway-outbound-scrub\] \S+ sent unsigned: no DKIM key for .*other\.test/)])
      for (const from of ['alice@example.com', 'bob@mail.example.com']) {
        const signed = message(['p@partner.test'], [`From: ${from}`], 'bounces@other.test')
        SKIP_PLUGINS.set(signed.txn, [])
        await h.run('pre_send_trans_email', signed.c)
        expect(SKIP_PLUGINS.get(signed.txn)).toEqual([])
      }
    })
  })

  it('without dkim listed, says nothing about keys and skips nothing', async () => {
    const h = pluginHarness(plugin, { gateway })
    expect(h.log).toEqual([])
    const { c, txn } = message(['p@partner.test'], ['From: someone@other.test'], 'bounces@other.test')
    SKIP_PLUGINS.set(txn, [])
    await h.run('pre_send_trans_email', c)
    expect(SKIP_PLUGINS.get(txn)).toEqual([])
  })

  it('refuses bad settings with file, line and key', () => {
    expect(() => pluginHarness(plugin, { gateway, ini: '[main]\nstrip_received=some\n' })).toThrow(/gateway-outbound-scrub\.ini:2: \[main\] strip_received: /)
    expect(() => pluginHarness(plugin, { gateway, ini: '[main]\ninternal_networks[]=corp\n' })).toThrow(/gateway-outbound-scrub\.ini:2: \[main\] internal_networks: "corp" is not an IP address/)
  })

  it('runs in the outbound instance only, before dkim', () => {
    expect(declarationOf(plugin)).toMatchObject({ order: { before: { dkim: expect.any(String) } } })
    expect(instanceProblem(declarationOf(plugin)!, 'inbound')).toBe('runs in the outbound instance only: remove it from the inbound instance')
  })
})
