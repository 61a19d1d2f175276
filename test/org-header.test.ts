// X-Gateway-Org across the split, over real SMTP with real instances and Redis:
// inbound stamps every Internet message with one signed header (a forged one is
// replaced); outbound believes it only from authenticated sessions with a valid,
// fresh signature for the same Message-ID, applies the history policy, and never
// lets the header leave for the Internet. Keys rotate with the real CLI.
// Headers for outbound cases are signed here from the gateway's key file, as
// the README documents (test/helpers/org-header.ts, independent of lib/org).

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import type { SmtpReply } from '../lib/smtp/client'
import { mailDate } from './helpers/content-mail'
import { delivered, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import type { MailSink, ReceivedMessage } from './helpers/mail-sink'
import { checkOrgHeader, orgKeys, signingKey, signOrgHeader } from './helpers/org-header'
import { fieldValues, headerFields, relaySession } from './helpers/outbound-relay'
import { countersSince, waitForCounters } from './helpers/stats-counters'

const USER = 'app@example.com'
const PASSWORD = 'correct horse battery'
const NODE = 'gw-test-a'
const GATEWAY = path.join(GATEWAY_ROOT, 'bin', 'gateway')

/** outbound settings shared by the main gateway and its variant; the variant changes [policy] */
const outboundFiles = (policy: string): Record<string, string> => ({
  'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
  'outbound/config/gateway-spool.ini': '[queue]\nmin_free_mb=1\n[tag]\nsubject_prefix=[OUT-TAG]\n',
  'outbound/config/gateway-org-verify.ini': `[policy]\n${policy}\nspam_scl=5\n`,
})

/** A relay user allowed to send as our domain and as the Internet sender of relayed mail (gateway user add). */
function addRelayUser(gw: TestGateway): void {
  const r = spawnSync(process.execPath, [GATEWAY, 'user', 'add', USER, '--may-send', 'example.com,sender.test'], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, GATEWAY_ROOT: gw.root, GATEWAY_USERS_FILE: path.join(gw.root, 'outbound', 'config', 'smtp-users') },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`gateway user add failed: ${r.stderr}`)
}

const { internal, remoteMx, gw, another, startRefused } = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  env: { GATEWAY_NODE_NAME: NODE },
  files: outboundFiles('virus=reject\nspam=tempfail\ndmarc_fail=tag'),
  prepare: ({ gw, dns }) => {
    // sender.test publishes DMARC p=none: Internet mail from it without SPF/DKIM fails DMARC, inbound tags it
    dns.add('_dmarc.sender.test', { type: 'TXT', data: 'v=DMARC1; p=none' })
    addRelayUser(gw)
  },
})

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

/** One Internet message to inbound; the copy the internal server received. */
async function fromInternet(headers: string[] = []): Promise<{ end: SmtpReply | undefined; msg: ReceivedMessage; messageId: string }> {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  const { text, marker } = testMessage({ from: 'a@sender.test', to: 'user@example.com', headers })
  const r = await sendMail(client, { from: 'a@sender.test', to: ['user@example.com'] }, text)
  await client.quit()
  expect([r.end?.code, r.end?.enhanced]).toEqual([250, '2.0.0'])
  return { end: r.end, msg: await delivered(internal, marker), messageId: `<${marker}@test.invalid>` }
}

let n = 0
/** A message as an internal server relays it; `org` gives its X-Gateway-Org field values for its Message-ID. */
function internalMessage(org: (messageId: string) => string[]) {
  const marker = `org-${process.pid}-${++n}-${Date.now()}`
  const messageId = `<${marker}@example.com>`
  const text = [
    'From: App <app@example.com>',
    'To: <someone@partner.test>',
    `Subject: ${marker}`,
    `Message-ID: ${messageId}`,
    `Date: ${mailDate()}`,
    ...org(messageId).map((v) => `X-Gateway-Org: ${v}`),
    '',
    `Body ${marker}`,
    '',
  ].join('\r\n')
  return { text, marker, messageId }
}

/** Relays `text` through outbound with AUTH to someone@partner.test (or `to`). */
async function relay(g: TestGateway, text: string, to = 'someone@partner.test'): Promise<SmtpReply | undefined> {
  const client = await relaySession(g, USER, PASSWORD)
  const r = await sendMail(client, { from: USER, to: [to] }, text)
  await client.quit()
  return r.end
}

/** No X-Gateway-* field at all in what `sink` received for `marker`. */
async function arrivedClean(sink: MailSink, marker: string): Promise<ReceivedMessage> {
  const msg = await delivered(sink, marker)
  expect(headerFields(msg.raw).filter((f) => /^x-gateway-/i.test(f))).toEqual([])
  return msg
}

const since = new Date()
const orgCounter = async (field: string) => (await countersSince(redis, gw.redisPrefix, 'outbound', since)).get(field) ?? 0

describe('inbound stamps every Internet message', () => {
  it('the internal server gets exactly one header, signed with the key file, with the message\'s decisions', async () => {
    const { end, msg, messageId } = await fromInternet()
    const values = fieldValues(msg.raw, 'X-Gateway-Org')
    expect(values).toHaveLength(1)
    const f = checkOrgHeader(values[0]!, messageId, orgKeys(gw.root))
    expect(f).toMatchObject({ v: '1', node: NODE, scl: '-', checks: 'dmarc:fail_p_none:tag' })
    expect(f.auth).toContain('dmarc:fail')
    expect(end?.text).toContain(f.id) // the record id is the transaction Haraka answered for
    expect(Math.abs(Number(f.t) - Date.now() / 1000)).toBeLessThan(60)
  })

  it('a header from the Internet (a replayed genuine one, one in obsolete syntax) is removed and replaced by ours', async () => {
    const first = await fromInternet()
    const genuine = fieldValues(first.msg.raw, 'X-Gateway-Org')[0]!
    const { msg, messageId } = await fromInternet([`X-Gateway-Org: ${genuine}`, 'X-Gateway-Org : v=1; kid=kforged; id=x'])
    const values = fieldValues(msg.raw, 'X-Gateway-Org')
    expect(values).toHaveLength(1)
    expect(msg.raw).not.toMatch(/x-gateway-org\s+:/i)
    const f = checkOrgHeader(values[0]!, messageId, orgKeys(gw.root))
    expect(f.id).not.toBe(checkOrgHeader(genuine, first.messageId, orgKeys(gw.root)).id)
  })
})

describe('outbound: the header is believed from authenticated sessions only, and never leaves', () => {
  it('a message the internal server redirects: verified, tagged by the history policy (dmarc_fail=tag), header gone at the remote MX', async () => {
    const { msg } = await fromInternet()
    const marker = /Body (marker-[\w-]+)/.exec(msg.raw)![1]!
    expect(await relay(gw, msg.raw)).toMatchObject({ code: 250 })
    const out = await arrivedClean(remoteMx, marker)
    expect(fieldValues(out.raw, 'Subject')).toEqual(['[OUT-TAG] [SUSPECT] test'])
    await gw.waitForLog('outbound', /\[gateway-org-verify\] verified X-Gateway-Org of record \S+ from node gw-test-a/)
    await gw.waitForLog('outbound', /decision check=org-history result=dmarc_fail action=tag detail="record \S+ from gw-test-a: dmarc=fail_p_none \(tag\)"/)
  })

  it('without authentication nothing gets through at all (RCPT 530), so no header can be smuggled', async () => {
    const { client } = await gw.connect('outbound')
    await client.ehlo('app1.corp.example')
    const { text } = internalMessage((mid) => [signOrgHeader(signingKey(gw.root), { id: 'X.1', messageId: mid, checks: 'virus:clean:accept' })])
    const r = await sendMail(client, { from: USER, to: ['someone@partner.test'] }, text)
    await client.quit()
    expect(r.rcpts.map((x) => [x.code, x.enhanced])).toEqual([[530, '5.7.0']])
    expect(r.end).toBeUndefined()
  })

  it('bad signature, unknown key, expired, copied onto another Message-ID, malformed: each removed, logged and counted', async () => {
    const before = await orgCounter('check:org-header:accept')
    const key = signingKey(gw.root)
    const old = Math.floor(Date.now() / 1000) - 3 * 86_400 - 60 // older than the default max_age (3d)
    const cases: [string, (messageId: string) => string][] = [
      ['bad_signature', (mid) => signOrgHeader({ id: key.id, secret: Buffer.alloc(32, 1) }, { id: 'R.1', messageId: mid })],
      ['unknown_key', (mid) => signOrgHeader(key, { id: 'R.2', messageId: mid }, 'kNotOurKey01')],
      ['stale', (mid) => signOrgHeader(key, { id: 'R.3', messageId: mid, t: old })],
      ['message_id_mismatch', () => signOrgHeader(key, { id: 'R.4', messageId: '<another@example.com>' })],
      ['malformed', () => 'v=1; kid=broken'],
    ]
    for (const [result, make] of cases) {
      const { text, marker } = internalMessage((mid) => [make(mid)])
      expect(await relay(gw, text)).toMatchObject({ code: 250 })
      const out = await delivered(remoteMx, marker)
      expect(headerFields(out.raw).filter((f) => /^x-gateway-/i.test(f))).toEqual([])
      await gw.waitForLog('outbound', new RegExp(`decision check=org-header result=${result} action=accept`))
    }
    const counters = await waitForCounters(redis, gw.redisPrefix, 'outbound', since, (c) => (c.get('check:org-header:accept') ?? 0) >= before + cases.length)
    expect(counters.get('check:org-header:accept')).toBe(before + cases.length)
  })

  it('history policy: virus=reject answers 550 5.7.1, spam=tempfail 451 4.7.1; both counted', async () => {
    const key = signingKey(gw.root)
    const virusText = internalMessage((mid) => [signOrgHeader(key, { id: 'V.1', messageId: mid, checks: 'virus:infected:quarantine' })]).text
    expect(await relay(gw, virusText)).toMatchObject({ code: 550, enhanced: '5.7.1', text: expect.stringContaining('Message rejected by content policy') })
    const spamText = internalMessage((mid) => [signOrgHeader(key, { id: 'S.1', messageId: mid, scl: 7, checks: 'spam:scl_7:quarantine' })]).text
    expect(await relay(gw, spamText)).toMatchObject({ code: 451, enhanced: '4.7.1' })
    await waitForCounters(redis, gw.redisPrefix, 'outbound', since, (c) => (c.get('check:org-history:reject') ?? 0) >= 1 && (c.get('check:org-history:tempfail') ?? 0) >= 1)
  })

  it('mail that stays inside loses the header as well (the scrub leaves such mail alone)', async () => {
    const m = internalMessage((mid) => [signOrgHeader(signingKey(gw.root), { id: 'IN.1', messageId: mid, checks: 'spam:scl_2:accept' })])
    expect(await relay(gw, m.text, 'colleague@example.com')).toMatchObject({ code: 250 })
    const msg = await delivered(internal, m.marker)
    expect(fieldValues(msg.raw, 'X-Gateway-Org')).toEqual([])
    await gw.waitForLog('outbound', /verified X-Gateway-Org of record IN\.1 /)
  })

  it('20 parallel authenticated sessions, each relaying a stamped message: every one verified, none leaks the header', async () => {
    const key = signingKey(gw.root)
    const msgs = Array.from({ length: 20 }, (_, i) => internalMessage((mid) => [signOrgHeader(key, { id: `P.${i}`, messageId: mid, checks: 'virus:clean:accept' })]))
    const ends = await Promise.all(msgs.map((m) => relay(gw, m.text)))
    expect(ends.map((e) => e?.code)).toEqual(Array(20).fill(250))
    for (const m of msgs) await arrivedClean(remoteMx, m.marker)
    for (let i = 0; i < 20; i++) await gw.waitForLog('outbound', new RegExp(`verified X-Gateway-Org of record P\\.${i} from node`))
  })

  it('key rotation (real CLI): old and new keys verify right after, the old one is refused after the grace; inbound signs with the new one', async () => {
    const oldKey = signingKey(gw.root)
    const rotate = spawnSync(process.execPath, [GATEWAY, 'org-key', 'rotate', '--grace', '4s'], { env: gw.env('outbound'), encoding: 'utf8' })
    expect(rotate.status, rotate.stderr).toBe(0)
    const rotatedAt = Date.now()
    expect(rotate.stdout).toMatch(new RegExp(`${oldKey.id} still verifies until`))
    const newKey = signingKey(gw.root)
    expect(newKey.id).not.toBe(oldKey.id)
    const list = spawnSync(process.execPath, [GATEWAY, 'org-key', 'list'], { env: gw.env('outbound'), encoding: 'utf8' })
    expect(list.status).toBe(0)
    expect(list.stdout).toMatch(new RegExp(`${oldKey.id}\\t\\S+\\tverifying until `))
    expect(list.stdout).toMatch(new RegExp(`${newKey.id}\\t\\S+\\tsigning`))
    expect(list.stdout).not.toContain(newKey.secret.toString('base64'))

    const send = async (key: typeof oldKey, id: string) => {
      const { text } = internalMessage((mid) => [signOrgHeader(key, { id, messageId: mid })])
      expect(await relay(gw, text)).toMatchObject({ code: 250 })
    }
    await new Promise((r) => setTimeout(r, 1100)) // instances look at the file once a second
    await Promise.all([send(oldKey, 'ROT.old1'), send(newKey, 'ROT.new1')])
    expect(Date.now() - rotatedAt).toBeLessThan(4000) // still within the grace
    await gw.waitForLog('outbound', /verified X-Gateway-Org of record ROT\.old1 /)
    await gw.waitForLog('outbound', /verified X-Gateway-Org of record ROT\.new1 /)

    await new Promise((r) => setTimeout(r, Math.max(0, rotatedAt + 4500 - Date.now())))
    await Promise.all([send(oldKey, 'ROT.old2'), send(newKey, 'ROT.new2')])
    await gw.waitForLog('outbound', new RegExp(`decision check=org-header result=retired_key action=accept detail="key ${oldKey.id} retired at`))
    await gw.waitForLog('outbound', /verified X-Gateway-Org of record ROT\.new2 /)
    expect(gw.log('outbound')).not.toMatch(/record ROT\.old2 /)

    const { msg, messageId } = await fromInternet()
    expect(checkOrgHeader(fieldValues(msg.raw, 'X-Gateway-Org')[0]!, messageId, orgKeys(gw.root)).kid).toBe(newKey.id)
    await gw.waitForLog('inbound', new RegExp(`X-Gateway-Org keys re-read from .*signing with ${newKey.id}`))
  })
})

describe('outbound: the other history-policy actions (monitor, accept)', () => {
  const variant = another({ instances: ['outbound'], files: outboundFiles('virus=monitor\nspam=accept\ndmarc_fail=monitor') })
  beforeAll(async () => {
    addRelayUser(variant)
    await variant.start()
  })
  afterAll(() => variant.stop())

  it('virus=monitor and spam=accept deliver the message, record the decision, and drop the header', async () => {
    const key = signingKey(variant.root)
    const v = internalMessage((mid) => [signOrgHeader(key, { id: 'VM.1', messageId: mid, checks: 'virus:infected:quarantine' })])
    const s = internalMessage((mid) => [signOrgHeader(key, { id: 'SA.1', messageId: mid, scl: 9 })])
    expect(await relay(variant, v.text)).toMatchObject({ code: 250 })
    expect(await relay(variant, s.text)).toMatchObject({ code: 250 })
    const virusOut = await arrivedClean(remoteMx, v.marker)
    expect(fieldValues(virusOut.raw, 'Subject')).toEqual([v.marker]) // monitor changes nothing
    await arrivedClean(remoteMx, s.marker)
    await variant.waitForLog('outbound', /decision check=org-history result=virus action=monitor detail="record VM\.1 /)
    await variant.waitForLog('outbound', /decision check=org-history result=spam action=accept detail="record SA\.1 from gw-test-a: SCL 9 \(threshold 5\)"/)
    // the main gateway's key means nothing here: every node needs the same key file
    const foreign = internalMessage((mid) => [signOrgHeader(signingKey(gw.root), { id: 'F.1', messageId: mid })])
    expect(await relay(variant, foreign.text)).toMatchObject({ code: 250 })
    await variant.waitForLog('outbound', /decision check=org-header result=unknown_key action=accept/)
  })
})

describe('startup refuses what would break the header', () => {
  it('a key file others can read, the stamp after gateway-spool, the stamp on outbound: exit 78 with one line each', async () => {
    const [perm, order, wrongInstance] = await Promise.all([
      startRefused('inbound', { files: { 'var/org-keys.json': '{}' } }), // written 0644 by the test root
      startRefused('inbound', { files: { 'inbound/config/plugins': 'gateway-core\ngateway-accepted-domains\ngateway-spool\ngateway-org-stamp\n' } }),
      startRefused('outbound', { files: { 'outbound/config/plugins': 'gateway-core\ngateway-submission-auth\ngateway-org-stamp\ngateway-spool\n' } }),
    ])
    expect(perm.code).toBe(78)
    expect(perm.stderr).toMatch(/configuration error: \S*var\/org-keys\.json: X-Gateway-Org key file is accessible to group or others \(mode 0644\): run chmod 600 /)
    expect(order.code).toBe(78)
    // gateway-spool's own rule (it ends the queue hook) names it first; the stamp's declaration says the same
    expect(order.stderr).toMatch(/plugins:3: gateway-spool: must come after gateway-org-stamp \(line 4\): it ends the queue hook/)
    expect(wrongInstance.code).toBe(78)
    expect(wrongInstance.stderr).toMatch(/plugins:3: gateway-org-stamp: runs in the inbound instance only/)
  })
})

describe('gateway org-key: exit codes', () => {
  const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [GATEWAY, 'org-key', ...args], { env: { ...gw.env('outbound'), ...env }, encoding: 'utf8' })

  it('64 for usage errors, 78 for a broken key file (named), 0 and an owner-only file when it creates the first key', () => {
    expect(run([]).status).toBe(64)
    expect(run(['rotate', '--grace']).status).toBe(64)
    const bad = run(['rotate', '--grace', '2 weeks'])
    expect([bad.status, bad.stderr]).toEqual([64, expect.stringContaining('--grace: "2 weeks" is not a duration')])
    const dir = fs.mkdtempSync(path.join(gw.root, 'cli-'))
    const broken = path.join(dir, 'keys.json')
    fs.writeFileSync(broken, '{"version":1,"keys":[]}', { mode: 0o600 })
    const listed = run(['list'], { GATEWAY_ORG_KEY_FILE: broken })
    expect([listed.status, listed.stderr.trim()]).toEqual([78, expect.stringMatching(/^gateway: configuration error: \S*keys\.json: X-Gateway-Org key file has no keys$/)])
    expect(run(['rotate'], { GATEWAY_ORG_KEY_FILE: broken }).status).toBe(78)
    const fresh = path.join(dir, 'new', 'keys.json')
    const created = run(['rotate'], { GATEWAY_ORG_KEY_FILE: fresh })
    expect([created.status, created.stdout]).toEqual([0, expect.stringContaining('created')])
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o600)
    const rotated = run(['rotate', '--grace', '0s'], { GATEWAY_ORG_KEY_FILE: fresh })
    expect(rotated.status).toBe(0)
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o600)
    expect(run(['list'], { GATEWAY_ORG_KEY_FILE: fresh }).stdout).toMatch(/\tretired since .*\n.*\tsigning\n$/)
  })
})
