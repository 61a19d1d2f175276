// Unit test of gateway-submission-auth (outbound): AUTH PLAIN/LOGIN only inside TLS
// (advertised and accepted), 235 for the right password, 535 5.7.8 for a wrong one or
// an unknown user (prototype names included), 421 after max_failures; RCPT without
// authentication gets 530 5.7.0; MAIL FROM and the header From/Sender must lie in
// the user's scope (550 5.7.1, recorded without X-Gateway-Checks marks). The
// credential intake is driven with a stand-in for Haraka's process_line.
// Pinned client certificates authenticate a peer (validity dates relative to now).
// Not covered here: the Redis-backed lockout ([lockout] counters are set to 0 so no
// Redis is used); the integration tests cover it.

import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { connection as haraka } from 'haraka-constants'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeConnection, fakeTransaction, pluginHarness, testGatewayConfig, type FakeConnection } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import { formatUsers } from '../../lib/submission/credentials'
import { formatScopes } from '../../lib/submission/scope-file'
import plugin from './plugin'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-submission-auth-test-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
fs.mkdirSync(path.join(dir, 'config'))
/** A stored hash in the file's format at scrypt's lowest accepted cost (N=1024, r=1), so a check takes about a millisecond. */
function cheapHash(password: string): string {
  const salt = Buffer.alloc(16, 7)
  const hash = crypto.scryptSync(password, salt, 32, { N: 1024, r: 1, p: 1 })
  return `scrypt$1024$1$1$${salt.toString('base64')}$${hash.toString('base64')}`
}
beforeAll(() => {
  fs.writeFileSync(path.join(dir, 'config', 'smtp-users'), formatUsers(new Map([['alice', cheapHash('correct horse')]])))
  fs.writeFileSync(path.join(dir, 'config', 'sender-scopes'), formatScopes(new Map([['alice', ['alice@example.com', 'news@example.com']]])))
})
beforeEach(() => vi.stubEnv('HARAKA', dir))
afterEach(() => vi.unstubAllEnvs())

const gateway = testGatewayConfig({ acceptedDomains: ['example.com'] })
const INI = '[main]\nfailure_delay_ms=0\n[lockout]\nmax_failures_per_ip=0\nmax_failures_per_user=0\n'
// One harness for the default settings: each one hashes a dummy password at production cost (for unknown users)
let shared: ReturnType<typeof pluginHarness> | undefined
const defaults = () => (shared ??= pluginHarness(plugin, { ini: INI, gateway }))
const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64')

/** A TLS session with the credential intake installed on a stand-in process_line. */
async function session(h: ReturnType<typeof pluginHarness>, opts: { tls?: boolean } = {}) {
  const c = fakeConnection({ tls: opts.tls ?? true, ip: '10.0.0.20' })
  Object.assign(c, { state: haraka.state.CMD, process_line: (_line: Buffer) => undefined })
  expect(await h.run('connect_init', c)).toEqual({ result: 'CONT' })
  /** Sends a command line through the intake, then runs unrecognized_command as Haraka would with what it saw. */
  const command = async (line: string) => {
    ;(c as unknown as { process_line(l: Buffer): void }).process_line(Buffer.from(`${line}\r\n`))
    const [verb = '', ...rest] = line.split(' ')
    return h.run('unrecognized_command', c, [verb, rest.join(' ')])
  }
  return { c, command }
}

async function loggedIn(h: ReturnType<typeof pluginHarness>): Promise<FakeConnection> {
  const { c, command } = await session(h)
  expect(await command(`AUTH PLAIN ${plain('alice', 'correct horse')}`)).toEqual({ result: 'OK' })
  return c
}

describe('gateway-submission-auth', () => {
  it('advertises AUTH only inside TLS, and not once authenticated', async () => {
    const h = defaults()
    expect(h.hooks).toEqual(['capabilities', 'connect_init', 'unrecognized_command', 'mail', 'rcpt', 'data_post'])
    const clear = fakeConnection()
    await h.run('capabilities', clear)
    expect(clear.capabilities).toEqual([])
    const tls = fakeConnection({ tls: true })
    await h.run('capabilities', tls)
    expect(tls.capabilities).toEqual([expect.stringMatching(/^AUTH .*PLAIN/)])
    const done = await loggedIn(h)
    await h.run('capabilities', done)
    expect(done.capabilities).toEqual([])
  })

  it('accepts the right password with 235, relays, and records the user', async () => {
    const h = defaults()
    const c = await loggedIn(h)
    expect(c.responses).toEqual(['235 2.7.0 Authentication successful'])
    expect(c.relaying).toBe(true)
    expect(c.results.get('auth')).toMatchObject({ pass: ['gateway-submission-auth'], user: 'alice' })
    expect(c.log).toContainEqual(expect.stringMatching(/^NOTICE \[gateway-submission-auth\] authenticated "alice" \(PLAIN\); may send as .*alice@example\.com.* \(configured\)$/))
  })

  it('AUTH LOGIN: challenges with 334, the password line never reaches Haraka', async () => {
    const h = defaults()
    const seen: string[] = []
    const c = fakeConnection({ tls: true })
    Object.assign(c, { state: haraka.state.CMD, process_line: (l: Buffer) => seen.push(l.toString().trimEnd()) })
    await h.run('connect_init', c)
    const send = (line: string) => (c as unknown as { process_line(l: Buffer): void }).process_line(Buffer.from(`${line}\r\n`))
    send('AUTH LOGIN')
    expect(await h.run('unrecognized_command', c, ['AUTH', 'LOGIN'])).toEqual({ result: 'OK' })
    send(Buffer.from('alice').toString('base64'))
    expect(await h.run('unrecognized_command', c, [seen.at(-1)!, ''])).toEqual({ result: 'OK' })
    send(Buffer.from('correct horse').toString('base64'))
    expect(await h.run('unrecognized_command', c, [seen.at(-1)!, ''])).toEqual({ result: 'OK' })
    expect(c.responses.map((r) => r.slice(0, 3))).toEqual(['334', '334', '235'])
    expect(seen.join('\n')).not.toContain(Buffer.from('correct horse').toString('base64'))
  })

  it('refuses a wrong password or an unknown user (prototype names too) with 535 5.7.8, and records it', async () => {
    const h = defaults()
    for (const [user, password] of [['alice', 'wrong'], ['constructor', 'correct horse'], ['__proto__', 'hunter2-secret']] as const) {
      const { c, command } = await session(h)
      expect(await command(`AUTH PLAIN ${plain(user, password)}`)).toEqual({ result: 'DENY', reply: '535 5.7.8 Authentication credentials invalid' })
      expect(c.relaying).toBe(false)
      expect(c.log).toContain(`NOTICE [gateway-submission-auth] authentication failed for ${JSON.stringify(user)} (PLAIN), failure 1`)
      expect(c.log.join('\n')).not.toContain(password)
    }
  })

  it('disconnects with 421 4.7.0 at max_failures', async () => {
    const h = pluginHarness(plugin, { ini: INI.replace('failure_delay_ms=0\n', 'failure_delay_ms=0\nmax_failures=2\n'), gateway })
    const { command } = await session(h)
    expect(await command(`AUTH PLAIN ${plain('alice', 'a')}`)).toEqual({ result: 'DENY', reply: '535 5.7.8 Authentication credentials invalid' })
    expect(await command(`AUTH PLAIN ${plain('alice', 'b')}`)).toEqual({ result: 'DENYSOFTDISCONNECT', reply: '421 4.7.0 Too many authentication failures' })
  })

  it('refuses AUTH in clear (530 5.7.0), twice (503), and leaves other commands to Haraka', async () => {
    const h = defaults()
    const clear = await session(h, { tls: false })
    expect(await clear.command(`AUTH PLAIN ${plain('alice', 'correct horse')}`)).toEqual({ result: 'DENY', reply: '530 5.7.0 Must issue a STARTTLS command first' })
    const again = await loggedIn(h)
    expect(await h.run('unrecognized_command', again, ['AUTH', 'PLAIN'])).toEqual({ result: 'DENY', reply: '503 5.5.1 Already authenticated' })
    expect(await h.run('unrecognized_command', fakeConnection({ tls: true }), ['XCLIENT', 'ADDR=1.2.3.4'])).toEqual({ result: 'CONT' })
  })

  it('answers every RCPT without authentication with 530 5.7.0', async () => {
    const h = defaults()
    const c = fakeConnection({ tls: true })
    const txn = fakeTransaction(c, { from: 'alice@example.com', to: ['bob@partner.test'] })
    expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'CONT' })
    expect(await h.run('rcpt', c, [txn.rcpt_to[0], {}])).toEqual({ result: 'DENY', reply: '530 5.7.0 Authentication required' })
  })

  it('lets an authenticated user send as what it owns, and refuses anything else with 550 5.7.1 (no marks)', async () => {
    const h = defaults()
    const c = await loggedIn(h)
    const own = fakeTransaction(c, { from: 'News@example.com', to: ['bob@partner.test'], headers: ['From: "Alice" <alice@example.com>', 'Sender: news@example.com'] })
    expect(await h.run('mail', c, [own.mail_from, {}])).toEqual({ result: 'CONT' })
    expect(await h.run('rcpt', c, [own.rcpt_to[0], {}])).toEqual({ result: 'CONT' })
    expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })

    const foreign = fakeTransaction(c, { from: 'ceo@example.com' })
    expect(await h.run('mail', c, [foreign.mail_from, {}])).toEqual({ result: 'DENY', reply: '550 5.7.1 Sender address rejected: not authorised for this account' })
    expect(c.log).toContainEqual(expect.stringMatching(/decision check=sender-scope result=envelope_out_of_scope action=reject detail="user alice used ceo@example\.com; may send as .* \(configured\)"/))
    expect(decisionsOf(c)).toEqual([])
  })

  it('checks the header From and Sender as mail clients read them', async () => {
    const h = defaults()
    const FROM_REFUSED = { result: 'DENY', reply: '550 5.7.1 Message rejected: From address not authorised for this account' }
    const cases: [string[], string][] = [
      [[], 'header_from_missing'],
      [['From: alice@example.com', 'From: ceo@example.com'], 'header_from_multiple'],
      [['From: "Alice" <ceo@example.com>'], 'header_from_out_of_scope'],
      [['From: alice@example.com, ceo@example.com'], 'header_from_out_of_scope'],
      [['From: alice@example.com', 'Sender: ceo@example.com'], 'header_sender_out_of_scope'],
      [['From: alice@example.com', 'Sender: a@example.com', 'Sender: b@example.com'], 'header_sender_multiple'],
    ]
    for (const [headers, result] of cases) {
      const c = await loggedIn(h)
      fakeTransaction(c, { from: 'alice@example.com', to: ['bob@partner.test'], headers })
      expect(await h.run('data_post', c)).toEqual(FROM_REFUSED)
      expect(c.log).toContainEqual(expect.stringContaining(`decision check=sender-scope result=${result} action=reject`))
    }
  })

  it('with [sender] action=monitor records an out-of-scope sender and lets it through', async () => {
    const h = pluginHarness(plugin, { ini: `${INI}[sender]\naction=monitor\n`, gateway })
    const c = await loggedIn(h)
    const txn = fakeTransaction(c, { from: 'ceo@example.com' })
    expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'CONT' })
    expect(c.log).toContainEqual(expect.stringContaining('decision check=sender-scope result=envelope_out_of_scope action=monitor'))
  })

  describe('pinned client certificates', () => {
    const DAY = 86_400_000
    const raw = Buffer.from('the DER bytes of mx1.example.com')
    const fingerprint = crypto.createHash('sha256').update(raw).digest('hex')
    const PEERS = `${INI}[peer.mx1]\nfingerprint=${fingerprint}\nmay_send[]=example.com\n`
    const tlsIni = (main: Record<string, unknown> = {}) => ({ 'tls.ini': { main } })
    const withCert = (cert: Record<string, unknown>) => {
      const c = fakeConnection({ tls: true, ip: '10.0.0.5' })
      Object.assign(c.tls, { peerCertificate: cert })
      return c
    }
    const valid = { raw, valid_from: new Date(Date.now() - DAY).toUTCString(), valid_to: new Date(Date.now() + DAY).toUTCString() }

    it('a pinned, valid certificate authenticates the peer: no AUTH offered, it relays within its scope', async () => {
      const h = pluginHarness(plugin, { ini: PEERS, gateway, harakaConfig: tlsIni() })
      const c = withCert(valid)
      await h.run('capabilities', c)
      expect(c.capabilities).toEqual([])
      expect(c.relaying).toBe(true)
      expect(c.results.get('auth')).toMatchObject({ pass: ['gateway-submission-auth'], method: 'client-certificate', user: 'peer:mx1' })
      expect(c.log).toEqual([expect.stringMatching(/^NOTICE \[gateway-submission-auth\] authenticated peer "mx1" by client certificate sha256=([0-9A-F]{2}:){31}[0-9A-F]{2}$/)])
      const txn = fakeTransaction(c, { from: 'billing@example.com', to: ['p@partner.test'], headers: ['From: billing@example.com'] })
      expect(await h.run('mail', c, [txn.mail_from, {}])).toEqual({ result: 'CONT' })
      expect(await h.run('data_post', c)).toEqual({ result: 'CONT' })
      const out = fakeTransaction(c, { from: 'x@partner.test' })
      expect(await h.run('mail', c, [out.mail_from, {}])).toEqual({ result: 'DENY', reply: '550 5.7.1 Sender address rejected: not authorised for this account' })
      expect(c.log).toContainEqual(expect.stringContaining('detail="peer mx1 used x@partner.test; may send as'))
    })

    it('an expired or unpinned certificate must AUTH, and is logged once', async () => {
      const h = pluginHarness(plugin, { ini: PEERS, gateway, harakaConfig: tlsIni() })
      const expired = withCert({ raw, valid_from: new Date(Date.now() - 2 * DAY).toUTCString(), valid_to: new Date(Date.now() - DAY).toUTCString() })
      await h.run('capabilities', expired)
      await h.run('capabilities', expired)
      expect(expired.relaying).toBe(false)
      expect(expired.capabilities).toEqual([expect.stringMatching(/^AUTH /), expect.stringMatching(/^AUTH /)])
      expect(expired.log).toEqual(['WARN [gateway-submission-auth] client certificate of peer "mx1" is expired or not yet valid: it must AUTH'])
      const unpinned = withCert({ ...valid, raw: Buffer.from('someone else') })
      await h.run('capabilities', unpinned)
      expect(unpinned.relaying).toBe(false)
      expect(unpinned.log).toEqual([expect.stringMatching(/^INFO \[gateway-submission-auth\] client certificate sha256=\S+ is not pinned: AUTH required$/)])
    })

    it('refuses a tls.ini that would fail pinned clients at the handshake', () => {
      expect(() => pluginHarness(plugin, { ini: PEERS, gateway, harakaConfig: tlsIni({ rejectUnauthorized: true }) })).toThrow(/tls\.ini: \[main\] rejectUnauthorized: must be false/)
      expect(() => pluginHarness(plugin, { ini: PEERS, gateway, harakaConfig: tlsIni({ requestCert: false }) })).toThrow(/tls\.ini: \[main\] requestCert: must be true/)
    })
  })

  it('refuses bad settings with file, line and key', () => {
    expect(() => pluginHarness(plugin, { gateway, ini: '[main]\nmax_failures=0\n' })).toThrow(/gateway-submission-auth\.ini:2: \[main\] max_failures: /)
    expect(() => pluginHarness(plugin, { gateway, ini: '[sender]\naction=tag\n' })).toThrow(/gateway-submission-auth\.ini:2: \[sender\] action: /)
    expect(() => pluginHarness(plugin, { gateway, ini: '[peers]\nfingerprint=ab\n' })).toThrow(/gateway-submission-auth\.ini: \[peers\]: a client certificate is a section named \[peer\.<name>\]/)
    expect(() => pluginHarness(plugin, { gateway, ini: '[peer.mx1]\nfingerprint=abc\nmay_send[]=example.com\n' })).toThrow(
      /gateway-submission-auth\.ini:2: \[peer\.mx1\] fingerprint: is not a SHA-256 fingerprint/,
    )
  })

  it('runs in the outbound instance only', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['outbound'] })
    expect(instanceProblem(declarationOf(plugin)!, 'inbound')).toBe('runs in the outbound instance only: remove it from the inbound instance')
  })
})
