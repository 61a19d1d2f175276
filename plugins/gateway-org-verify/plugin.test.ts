// Unit test of gateway-org-verify through the real adapter: headers are always
// removed; believed only from authenticated (relaying) sessions with a valid
// signature; invalid ones recorded with the reason; the history policy's
// actions answer as configured.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { formatOrgHeader, messageIdDigest, type OrgDecision } from '../../lib/org/header'
import { openKeyFile, type OrgKey } from '../../lib/org/key-file'
import { orgFieldValues } from '../../lib/org/message-fields'
import { verifiedOrgHistory } from '../../lib/org/verified'
import { definitionOf } from '../../lib/plugin/define'
import { orderProblems } from '../../lib/plugin/order'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import plugin from './plugin'

let dir: string
let key: OrgKey
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'org-verify-'))
  const file = path.join(dir, 'org-keys.json')
  process.env.GATEWAY_ORG_KEY_FILE = file
  key = openKeyFile(file, Date.now()).keys[0]!
})
afterAll(() => {
  delete process.env.GATEWAY_ORG_KEY_FILE
  fs.rmSync(dir, { recursive: true, force: true })
})

const MID = '<out1@example.com>'
function header(checks: OrgDecision[] = [], over: { t?: number; mid?: string; scl?: number | null; secret?: Buffer } = {}): string {
  return formatOrgHeader(
    { id: 'REC-1.1', node: 'gw-a', t: over.t ?? Math.floor(Date.now() / 1000), mid: messageIdDigest([over.mid ?? MID]), scl: over.scl ?? null, auth: [], checks },
    { id: key.id, secret: over.secret ?? key.secret },
  )
}

function message(value: string, relaying = true) {
  const c = fakeConnection({ relaying, tls: true })
  const txn = fakeTransaction(c, { from: 'app@example.com', to: ['x@partner.test'], headers: ['From: app@example.com', `Message-ID: ${MID}`, `X-Gateway-Org: ${value}`] })
  return { c, txn }
}

const VIRUS: OrgDecision = { check: 'virus', result: 'infected', action: 'quarantine' }

describe('gateway-org-verify', () => {
  it('no header: nothing to do', async () => {
    const h = pluginHarness(plugin)
    const c = fakeConnection({ relaying: true })
    fakeTransaction(c, { headers: ['Message-ID: <a@b>'] })
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(c.log).toEqual([])
  })

  it('a valid header from an authenticated session: removed, history kept, nothing to decide for a clean message', async () => {
    const h = pluginHarness(plugin)
    const { c, txn } = message(header([{ check: 'virus', result: 'clean', action: 'accept' }]))
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(orgFieldValues(txn.header.header_list)).toEqual([])
    expect(verifiedOrgHistory(txn)).toMatchObject({ recordId: 'REC-1.1', node: 'gw-a', keyId: key.id })
    expect(c.log).toEqual([expect.stringMatching(/^INFO \[gateway-org-verify\] verified X-Gateway-Org of record REC-1\.1 from node gw-a/)])
  })

  it('from a session that is not authenticated: removed and recorded, never believed', async () => {
    const h = pluginHarness(plugin)
    const { c, txn } = message(header([VIRUS]), false)
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(orgFieldValues(txn.header.header_list)).toEqual([])
    expect(verifiedOrgHistory(txn)).toBeUndefined()
    expect(c.log).toEqual(['NOTICE [gateway-org-verify] decision check=org-header result=untrusted_session action=accept detail="header from a session that is not authenticated"'])
    expect(decisionsOf(c)).toEqual([]) // never written into the message
  })

  it.each([
    ['bad_signature', () => header([], { secret: Buffer.alloc(32, 1) })],
    ['message_id_mismatch', () => header([], { mid: '<other@example.com>' })],
    ['stale', () => header([], { t: Math.floor(Date.now() / 1000) - 3 * 86_400 - 10 })],
    ['future_timestamp', () => header([], { t: Math.floor(Date.now() / 1000) + 600 })],
    ['unknown_key', () => header().replace(/kid=[\w-]+/, 'kid=kNoSuchKey')],
    ['malformed', () => 'v=1; kid=x'],
  ])('%s: removed, recorded, no history', async (result, make) => {
    const h = pluginHarness(plugin)
    const { c, txn } = message(make())
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
    expect(orgFieldValues(txn.header.header_list)).toEqual([])
    expect(verifiedOrgHistory(txn)).toBeUndefined()
    expect(c.log).toEqual([expect.stringMatching(new RegExp(`^NOTICE \\[gateway-org-verify\\] decision check=org-header result=${result} action=accept detail=`))])
  })

  it.each([
    ['reject', { result: 'DENY', reply: '550 5.7.1 Message rejected by content policy' }],
    ['tempfail', { result: 'DENYSOFT', reply: '451 4.7.1 Message rejected by content policy' }],
    ['tag', { result: 'CONT' }],
    ['monitor', { result: 'CONT' }],
    ['accept', { result: 'CONT' }],
  ] as const)('history policy: virus=%s', async (action, answer) => {
    const h = pluginHarness(plugin, { ini: `[policy]\nvirus=${action}\n` })
    const { c } = message(header([VIRUS]))
    expect(await h.run('data_post', c)).toEqual(answer)
    expect(c.log).toContainEqual(expect.stringMatching(new RegExp(`decision check=org-history result=virus action=${action} detail="record REC-1.1 from gw-a: virus=infected \\(quarantine\\)"`)))
    expect(decisionsOf(c)).toEqual([{ check: 'org-history', result: 'virus', action, tag: 'inbound found a virus in this message' }])
  })

  it('every finding is recorded; the first refusal answers', async () => {
    const h = pluginHarness(plugin, { ini: '[policy]\nvirus=monitor\nspam=tempfail\ndmarc_fail=reject\nspam_scl=6\n' })
    const { c } = message(header([VIRUS, { check: 'dmarc', result: 'fail_p_reject', action: 'monitor' }], { scl: 6 }))
    expect(await h.run('data_post', c)).toEqual({ result: 'DENYSOFT', reply: '451 4.7.1 Message rejected by content policy' })
    expect(decisionsOf(c).map((d) => `${d.result}:${d.action}`)).toEqual(['virus:monitor', 'spam:tempfail', 'dmarc_fail:reject'])
  })

  it('refuses quarantine (an inbound matter) and unknown keys in its settings', () => {
    expect(() => pluginHarness(plugin, { ini: '[policy]\nvirus=quarantine\n' })).toThrow(/virus: "quarantine" is not one of: reject, tempfail, tag, monitor, accept/)
    expect(() => pluginHarness(plugin, { ini: '[policy]\nspam_scl=0\n' })).toThrow(/below the minimum 1/)
  })
})

describe('gateway-org-verify order', () => {
  it('must follow gateway-submission-auth (it trusts what that plugin authenticated) and precede the scrub', () => {
    const def = definitionOf(plugin)
    const list = [
      { name: 'gateway-outbound-scrub', line: 1 },
      { name: def.name, line: 2, hooks: def.hooks, order: def.order },
      { name: 'gateway-submission-auth', line: 3 },
    ]
    expect(orderProblems(list, 'outbound').map((p) => p.problem)).toEqual([
      expect.stringContaining('must come after gateway-submission-auth (line 3)'),
      expect.stringContaining('must come before gateway-outbound-scrub (line 1)'),
    ])
  })
})
