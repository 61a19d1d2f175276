// Outbound authorisation over real SMTP: each account sends only as what it
// owns (MAIL FROM before DATA, header From after), failed AUTH attempts lock a
// client IP or a user name out across connections and gateway nodes through
// Redis, only wrong passwords count (parallel correct logins of one account are
// never refused), parallel guessing never gets more password checks than the
// limit, the lockout ends with its window, Redis down counts in the process,
// and a pinned client certificate relays without AUTH while an unknown one must AUTH.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { base64, type SmtpClient, type SmtpReply } from '../lib/smtp/client'
import { CertSmtpSession, makeClientCert } from './helpers/client-cert'
import { delivered, gatewayWithSink, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import { RedisMonitor } from './helpers/redis-monitor'
import { TestRedis } from './helpers/redis-server'
import { waitForCounters } from './helpers/stats-counters'

const PASSWORD = 'correct horse battery'
const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbound-auth-certs-'))
const pinned = makeClientCert(certDir, 'mx1.example.com')
const stranger = makeClientCert(certDir, 'unknown.example.net')

const { block, remoteMx, gw, another } = outboundWithPartnerMx({
  prepare: ({ gw }) => {
    addUser(gw.root, 'app@example.com') // no scope configured: its own address only
    addUser(gw.root, 'server', 'example.com') // an internal mail server: the whole domain (and bounces)
    addUser(gw.root, 'cli@example.com')
    addUser(gw.root, 'ipuser@example.com')
    addUser(gw.root, 'victim@example.com')
    addUser(gw.root, 'burst', 'example.com') // a mail server opening many sessions at once
    addUser(gw.root, 'mixed@example.com')
    addUser(gw.root, 'target@example.com')
    addUser(gw.root, 'herd', 'example.com') // a server whose sessions all authenticate at the same moment
  },
  files: {
    'outbound/config/gateway-submission-auth.ini': [
      '[main]',
      'failure_delay_ms=0',
      'max_failures=10',
      '[lockout]',
      'max_failures_per_ip=3',
      'max_failures_per_user=3',
      'window_seconds=600',
      '[peer.mx1]',
      `fingerprint=${pinned.fingerprint}`,
      'may_send=example.com, <>',
      '',
    ].join('\n'),
  },
})
const redis = new Redis(inject('redisUrl'))
/** Counters are read summed over the days since then: the file may run across midnight UTC. */
const FILE_STARTED = new Date()

function gatewayCli(root: string, args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), ...args], {
    input,
    env: { ...process.env, GATEWAY_USERS_FILE: path.join(root, 'outbound', 'config', 'smtp-users') },
    encoding: 'utf8',
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function addUser(root: string, name: string, maySend?: string): void {
  const r = gatewayCli(root, ['user', 'add', name, ...(maySend ? ['--may-send', maySend] : [])], `${PASSWORD}\n`)
  expect(r.status, r.stderr).toBe(0)
}

afterAll(() => {
  redis.disconnect()
  fs.rmSync(certDir, { recursive: true, force: true })
})

async function tlsSession(g: TestGateway, from?: string): Promise<SmtpClient> {
  const { client } = await g.connect('outbound', from)
  await client.ehlo()
  expect((await client.startTls()).code).toBe(220)
  await client.ehlo()
  return client
}

async function login(g: TestGateway, user: string, from?: string): Promise<SmtpClient> {
  const client = await tlsSession(g, from)
  const r = await client.send(`AUTH PLAIN ${base64(`\0${user}\0${PASSWORD}`)}`)
  expect([user, r.code, r.enhanced]).toEqual([user, 235, '2.7.0'])
  return client
}

const auth = (client: SmtpClient, user: string, password: string) => client.send(`AUTH PLAIN ${base64(`\0${user}\0${password}`)}`)

/** AUTH LOGIN as Outlook, Exchange connectors and devices send it: user name and password on lines of their own. */
async function authLogin(client: SmtpClient, user: string, password: string): Promise<SmtpReply> {
  expect((await client.send('AUTH LOGIN')).code).toBe(334)
  expect((await client.send(base64(user))).code).toBe(334)
  return client.send(base64(password))
}

/** AUTH PLAIN without an initial response: the credentials follow the 334 on a line of their own. */
async function authPlainContinued(client: SmtpClient, user: string, password: string): Promise<SmtpReply> {
  expect((await client.send('AUTH PLAIN')).code).toBe(334)
  return client.send(base64(`\0${user}\0${password}`))
}

const MECHANISMS = [auth, authLogin, authPlainContinued]

/** One session that tries one password (mechanism chosen by `i`) and hangs up; the AUTH reply. */
async function tryOnce(g: TestGateway, from: string, user: string, password: string, i = 0): Promise<SmtpReply> {
  const client = await tlsSession(g, from)
  const r = await MECHANISMS[i % MECHANISMS.length]!(client, user, password)
  await client.quit()
  return r
}

/**
 * Password checks that failed, as the instance logged them: the honest count of
 * verifications (a client cannot tell a refused-unchecked attempt from a checked one).
 * Waits until the log has settled, so late lines are not missed.
 */
async function failedChecks(g: TestGateway, user: RegExp): Promise<number> {
  const count = () => [...g.log('outbound').matchAll(/authentication failed for "([^"]*)"/g)].filter((m) => user.test(m[1]!)).length
  let last = -1
  return vi.waitFor(
    () => {
      const now = count()
      if (now === last) return now
      last = now
      throw new Error(`the count of failed password checks for ${user} is still changing (${now}) after 20000 ms`)
    },
    { timeout: 20_000, interval: 300 },
  )
}
const codes = (r: SmtpReply | undefined) => [r?.code, r?.enhanced]

/** An outbound counter summed since this file began, once it reaches `atLeast` (counters are flushed every second). */
async function statsField(g: TestGateway, field: string, atLeast: number): Promise<number> {
  const c = await waitForCounters(redis, g.redisPrefix, 'outbound', FILE_STARTED, (c) => (c.get(field) ?? 0) >= atLeast)
  return c.get(field) ?? 0
}

describe('sender scope', () => {
  it('refuses MAIL FROM outside the scope with 550 5.7.1 before DATA; the own address is relayed', async () => {
    const client = await login(gw, 'app@example.com')
    for (const from of ['ceo@example.com', 'app@partner.test', 'app+x@example.com', '']) {
      const r = await client.send(`MAIL FROM:<${from}>`)
      expect([from, ...codes(r)]).toEqual([from, 550, '5.7.1'])
      expect(r.text).toBe('5.7.1 Sender address rejected: not authorised for this account')
    }
    const { text, marker } = testMessage({ from: 'App@Example.com', to: 'someone@partner.test' })
    const r = await sendMail(client, { from: 'App@Example.com', to: ['someone@partner.test'] }, text)
    await client.quit()
    expect([r.mail.code, r.rcpts[0]!.code, r.end?.code]).toEqual([250, 250, 250])
    expect((await delivered(remoteMx, marker)).from).toBe('App@Example.com')
    expect(gw.log('outbound')).toMatch(/decision check=sender-scope result=envelope_out_of_scope action=reject detail="user app@example.com used ceo@example.com; may send as app@example.com \(default\)"/)
    expect(await statsField(gw, 'check:sender-scope:reject', 4)).toBeGreaterThanOrEqual(4)
  })

  it('refuses a header From outside the scope after DATA with 550 5.7.1, display-name tricks included', async () => {
    const client = await login(gw, 'app@example.com')
    const refused: string[] = []
    const tricks = [
      '<ceo@example.com>',
      '"app@example.com" <ceo@example.com>',
      'App <app@example.com>, <ceo@example.com>',
      'undisclosed',
      // comments and quotes a naive extractor reads as app@example.com; clients and DKIM read ceo@
      '(") <ceo@example.com> (" (x) app@example.com)',
      '=?utf-8?q?app=40example=2Ecom_=22?= <ceo@example.com> (")',
      // a second From field in obsolete syntax, invisible to Haraka's header map
      '<app@example.com>\r\nFrom : <ceo@example.com>',
      // Sender names who is responsible: also in scope, or refused
      '<app@example.com>\r\nSender: <ceo@example.com>',
    ]
    for (const from of tricks) {
      const { text, marker } = testMessage({ from: 'app@example.com', to: 'someone@partner.test' })
      const r = await sendMail(client, { from: 'app@example.com', to: ['someone@partner.test'] }, text.replace('From: <app@example.com>', `From: ${from}`))
      expect([from, r.mail.code, r.data?.code, ...codes(r.end)]).toEqual([from, 250, 354, 550, '5.7.1'])
      refused.push(marker)
    }
    const noFrom = testMessage({ from: 'app@example.com', to: 'someone@partner.test' })
    const missing = await sendMail(client, { from: 'app@example.com', to: ['someone@partner.test'] }, noFrom.text.replace('From: <app@example.com>\r\n', ''))
    expect(codes(missing.end)).toEqual([550, '5.7.1'])
    refused.push(noFrom.marker)
    const ok = testMessage({ from: 'app@example.com', to: 'someone@partner.test' })
    const r = await sendMail(client, { from: 'app@example.com', to: ['someone@partner.test'] }, ok.text.replace('From: <app@example.com>', 'From: "The App" <app@example.com>'))
    await client.quit()
    expect(r.end?.code).toBe(250)
    await delivered(remoteMx, ok.marker)
    expect(remoteMx.messages.filter((m) => refused.some((marker) => m.raw.includes(marker)))).toEqual([])
    expect(gw.log('outbound')).toMatch(/decision check=sender-scope result=header_from_out_of_scope action=reject/)
    for (const result of ['header_from_missing', 'header_from_multiple', 'header_from_unparseable', 'header_sender_out_of_scope']) {
      expect(gw.log('outbound')).toMatch(new RegExp(`decision check=sender-scope result=${result} action=reject`))
    }
  })

  it('lets a domain-scoped server account send as anyone@example.com and bounce with <>, but not as other domains', async () => {
    const client = await login(gw, 'server')
    const one = testMessage({ from: 'anyone@example.com', to: 'someone@partner.test' })
    const r1 = await sendMail(client, { from: 'anyone@example.com', to: ['someone@partner.test'] }, one.text.replace('From: <anyone@example.com>', 'From: Someone Else <someone.else@EXAMPLE.com>'))
    expect(r1.end?.code).toBe(250)
    const bounce = testMessage({ from: 'MAILER-DAEMON@example.com', to: 'someone@partner.test' })
    const r2 = await sendMail(client, { from: '', to: ['someone@partner.test'] }, bounce.text)
    expect([r2.mail.code, r2.end?.code]).toEqual([250, 250])
    for (const from of ['ceo@partner.test', 'x@mail.example.com', 'x@example.com.evil.test']) {
      expect([from, ...codes(await client.send(`MAIL FROM:<${from}>`))]).toEqual([from, 550, '5.7.1'])
    }
    await client.quit()
    expect((await delivered(remoteMx, one.marker)).from).toBe('anyone@example.com')
    expect((await delivered(remoteMx, bounce.marker)).from).toBe('')
  })

  it('takes a scope set with "gateway user may-send" without a restart, and lists it', async () => {
    const r = gatewayCli(gw.root, ['user', 'may-send', 'cli@example.com', 'cli@example.com, alerts@example.com'])
    expect(r.status, r.stderr).toBe(0)
    const list = gatewayCli(gw.root, ['user', 'list'])
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining(['cli@example.com\tcli@example.com, alerts@example.com', 'server\texample.com', 'app@example.com\tapp@example.com (default)']))
    const bad = gatewayCli(gw.root, ['user', 'may-send', 'cli@example.com', 'alerts@'])
    expect([bad.status, bad.stderr]).toEqual([65, expect.stringMatching(/--may-send: "alerts@" is not an address, a domain/)])

    const client = await login(gw, 'cli@example.com')
    expect((await client.send('MAIL FROM:<alerts@example.com>')).code).toBe(250)
    await client.send('RSET')
    expect(gatewayCli(gw.root, ['user', 'may-send', 'cli@example.com', 'default']).status).toBe(0)
    expect(codes(await client.send('MAIL FROM:<alerts@example.com>'))).toEqual([550, '5.7.1'])
    await client.quit()
  })
})

describe('brute-force lockout (shared through Redis)', () => {
  it('locks a client IP out after 3 failures, even with the right password, for that IP only', async () => {
    const attacker = block.ip(20)
    const client = await tlsSession(gw, attacker)
    expect(codes(await auth(client, 'nobody1', 'guess'))).toEqual([535, '5.7.8'])
    expect(codes(await auth(client, 'nobody2', 'guess'))).toEqual([535, '5.7.8'])
    const third = await auth(client, 'nobody3', 'guess')
    expect([third.code, third.text]).toEqual([454, '4.7.0 Temporary authentication failure'])
    await client.waitClosed()

    const key = `${gw.redisPrefix}:authfail:ip:${attacker}`
    expect(await redis.get(key)).toBe('3')
    const ttl = await redis.ttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(600)

    const again = await tlsSession(gw, attacker)
    expect(codes(await auth(again, 'ipuser@example.com', PASSWORD))).toEqual([454, '4.7.0'])
    await again.waitClosed()
    await (await login(gw, 'ipuser@example.com', block.ip(21))).quit()
    expect(gw.log('outbound')).toMatch(/decision check=auth-lockout result=locked_ip action=tempfail/)
    expect(await statsField(gw, 'check:auth-lockout:tempfail', 2)).toBeGreaterThanOrEqual(2)
  })

  it('locks a user name out after 3 failures from two addresses, from anywhere; other users pass', async () => {
    const a = await tlsSession(gw, block.ip(30))
    expect(codes(await auth(a, 'victim@example.com', 'guess 1'))).toEqual([535, '5.7.8'])
    expect(codes(await auth(a, 'victim@example.com', 'guess 2'))).toEqual([535, '5.7.8'])
    await a.quit()
    const b = await tlsSession(gw, block.ip(31))
    expect(codes(await auth(b, 'victim@example.com', 'guess 3'))).toEqual([454, '4.7.0'])
    await b.waitClosed()

    const key = `${gw.redisPrefix}:authfail:user:victim@example.com`
    expect(await redis.get(key)).toBe('3')
    expect(await redis.ttl(key)).toBeGreaterThan(0)
    expect(await redis.get(`${gw.redisPrefix}:authfail:ip:${block.ip(30)}`)).toBe('2')

    const c = await tlsSession(gw, block.ip(32))
    expect(codes(await auth(c, 'victim@example.com', PASSWORD))).toEqual([454, '4.7.0'])
    await c.waitClosed()
    await (await login(gw, 'ipuser@example.com', block.ip(32))).quit()
    expect(gw.log('outbound')).toMatch(/decision check=auth-lockout result=locked_user action=tempfail/)
  })
})

describe('lockout under concurrency: only wrong passwords count', () => {
  const failuresOf = (kind: 'ip' | 'user', name: string) => redis.get(`${gw.redisPrefix}:authfail:${kind}:${name}`)

  it('lets 50 parallel correct logins of one account from one address in, three bursts in a row (PLAIN and LOGIN)', async () => {
    // what an internal server does to its smarthost; the limits here are 3 per address and per user
    const from = block.ip(50)
    for (let burst = 1; burst <= 3; burst++) {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => tryOnce(gw, from, 'burst', PASSWORD, i)))
      expect([burst, replies.map(codes)]).toEqual([burst, Array(50).fill([235, '2.7.0'])])
    }
    expect(await failuresOf('ip', from)).toBeNull()
    expect(await failuresOf('user', 'burst')).toBeNull()
    // every in-flight lease was given back
    expect(await redis.zcard(`${gw.redisPrefix}:authlease:ip:${from}`)).toBe(0)
  })

  it('counts wrong passwords exactly, lets right ones alongside and between them in, locks at the limit and counts nothing while locked', async () => {
    const from = block.ip(51)
    const user = 'mixed@example.com'
    // 2 wrong and 20 right at once, from the same address, for the same account
    const passwords = ['wrong 1', ...Array<string>(10).fill(PASSWORD), 'wrong 2', ...Array<string>(10).fill(PASSWORD)]
    const replies = await Promise.all(passwords.map((p, i) => tryOnce(gw, from, user, p, i)))
    expect(replies.map((r, i) => [passwords[i], r.code])).toEqual(passwords.map((p) => [p, p === PASSWORD ? 235 : 535]))
    expect([await failuresOf('ip', from), await failuresOf('user', user)]).toEqual(['2', '2'])

    // one failure below the limit, the right password still works, and counts nothing
    expect(codes(await tryOnce(gw, from, user, PASSWORD, 1))).toEqual([235, '2.7.0'])
    expect([await failuresOf('ip', from), await failuresOf('user', user)]).toEqual(['2', '2'])

    // the third wrong password reaches the limit: refused as locked, and counted
    expect(codes(await tryOnce(gw, from, user, 'wrong 3'))).toEqual([454, '4.7.0'])
    expect([await failuresOf('ip', from), await failuresOf('user', user)]).toEqual(['3', '3'])
    const ttl = await redis.pttl(`${gw.redisPrefix}:authfail:user:${user}`)

    // locked: right and wrong alike get the same temporary failure, and neither counts nor extends the window
    for (const [i, p] of [PASSWORD, 'wrong 4', PASSWORD, 'wrong 5'].entries()) {
      expect([p, ...codes(await tryOnce(gw, from, user, p, i))]).toEqual([p, 454, '4.7.0'])
    }
    expect([await failuresOf('ip', from), await failuresOf('user', user)]).toEqual(['3', '3'])
    expect(await redis.pttl(`${gw.redisPrefix}:authfail:user:${user}`)).toBeLessThanOrEqual(ttl)
    expect(await failedChecks(gw, /^mixed@example\.com$/)).toBe(3)
  })

  it('checks a password sent by 20 sessions at the same moment once: one lockout lease, the others wait for it, all get in', async () => {
    // an internal server's burst when its remembered verification has run out (here: never verified)
    const from = block.ip(53)
    const lease = `${gw.redisPrefix}:authlease:user:herd`
    const scripts: string[][] = []
    const monitor = await RedisMonitor.start(inject('redisUrl'), (args) => {
      if (/^eval/i.test(args[0] ?? '') && args.includes(lease)) scripts.push(args)
    })
    try {
      const sessions = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const client = await tlsSession(gw, from)
          expect((await client.send('AUTH LOGIN')).code).toBe(334)
          expect((await client.send(base64('herd'))).code).toBe(334)
          return client
        }),
      )
      // every password line at once: all 20 arrive while the first check runs
      const replies = await Promise.all(sessions.map((client) => client.send(base64(PASSWORD))))
      expect(replies.map(codes)).toEqual(Array(20).fill([235, '2.7.0']))
      await Promise.all(sessions.map((client) => client.quit()))
      // one admission and one finish: one password check, not 20 (and no polling for leases)
      expect(scripts.length).toBe(2)
      expect(await redis.zcard(lease)).toBe(0)
      expect(await failuresOf('user', 'herd')).toBeNull()
    } finally {
      monitor.stop()
    }
  })

  it('gives 30 wrong passwords sent in parallel from one address at most 3 password checks', async () => {
    const from = block.ip(52)
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => tryOnce(gw, from, `spray-${i}@example.com`, 'guess', i)))
    expect(replies.every((r) => r.code === 535 || (r.code === 454 && r.enhanced === '4.7.0'))).toBe(true)
    expect(await failedChecks(gw, /^spray-\d+@example\.com$/)).toBeLessThanOrEqual(3)
    expect(await failuresOf('ip', from)).toBe('3')
    expect(codes(await tryOnce(gw, from, 'app@example.com', PASSWORD))).toEqual([454, '4.7.0'])
  })
})

describe('lockout shared by two gateway nodes (one Redis)', () => {
  // a second outbound node with the same Redis and key prefix: what one node counts, the other sees
  const nodeB = another({
    env: { GATEWAY_REDIS_PREFIX: gw.redisPrefix },
    files: { 'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\nmax_failures=10\n[lockout]\nmax_failures_per_ip=3\nmax_failures_per_user=3\nwindow_seconds=600\n' },
  })

  beforeAll(async () => {
    addUser(nodeB.root, 'target@example.com')
    await nodeB.start()
  })
  afterAll(() => nodeB.stop())

  it('gives 40 wrong passwords for one account, in parallel from 8 addresses over both nodes, at most 3 password checks', async () => {
    const user = 'target@example.com'
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => tryOnce(i % 2 ? nodeB : gw, block.ip(70 + (i % 8)), user, `guess ${i}`, i)))
    expect(replies.every((r) => r.code === 535 || (r.code === 454 && r.enhanced === '4.7.0'))).toBe(true)
    const checks = (await failedChecks(gw, /^target@example\.com$/)) + (await failedChecks(nodeB, /^target@example\.com$/))
    expect(checks).toBeGreaterThan(0)
    expect(checks).toBeLessThanOrEqual(3)
    // counted exactly: the refused attempts added nothing
    expect(await redis.get(`${gw.redisPrefix}:authfail:user:${user}`)).toBe('3')
    for (const node of [gw, nodeB]) expect(codes(await tryOnce(node, block.ip(78), user, PASSWORD))).toEqual([454, '4.7.0'])
  })
})

describe('client certificates (mutual TLS)', () => {
  it('relays for a pinned certificate without AUTH, within the peer\'s scope, and delivers', async () => {
    const s = await CertSmtpSession.connect({ ...gw.outbound, localAddress: block.ip(40) })
    await s.ehlo()
    await s.startTls(pinned)
    expect((await s.ehlo()).some((e) => e.startsWith('AUTH'))).toBe(false)
    expect(codes(await s.send('MAIL FROM:<ceo@partner.test>'))).toEqual([550, '5.7.1'])
    expect((await s.send('MAIL FROM:<newsletter@example.com>')).code).toBe(250)
    expect((await s.send('RCPT TO:<someone@partner.test>')).code).toBe(250)
    const { text, marker } = testMessage({ from: 'newsletter@example.com', to: 'someone@partner.test' })
    expect((await s.data(text)).code).toBe(250)
    await s.quit()
    const msg = await delivered(remoteMx, marker)
    expect([msg.from, msg.to]).toEqual(['newsletter@example.com', ['someone@partner.test']])
    expect(gw.log('outbound')).toContain(`authenticated peer "mx1" by client certificate sha256=${pinned.fingerprint}`)
  })

  it('makes a client with an unknown certificate AUTH as usual', async () => {
    const s = await CertSmtpSession.connect({ ...gw.outbound, localAddress: block.ip(41) })
    await s.ehlo()
    await s.startTls(stranger)
    expect(await s.ehlo()).toContain('AUTH PLAIN LOGIN')
    expect((await s.send('MAIL FROM:<newsletter@example.com>')).code).toBe(250)
    expect(codes(await s.send('RCPT TO:<someone@partner.test>'))).toEqual([530, '5.7.0'])
    await s.send('RSET')
    expect(codes(await s.send(`AUTH PLAIN ${base64(`\0server\0${PASSWORD}`)}`))).toEqual([235, '2.7.0'])
    expect((await s.send('MAIL FROM:<newsletter@example.com>')).code).toBe(250)
    expect((await s.send('RCPT TO:<someone@partner.test>')).code).toBe(250)
    await s.quit()
    expect(gw.log('outbound')).toContain(`client certificate sha256=${stranger.fingerprint} is not pinned: AUTH required`)
  })
})

describe('lockout window and Redis outage (own gateway and Redis)', () => {
  const block2 = addressBlock()
  const redis2 = new TestRedis(block2.ip(6), 6379)
  const { sink: sink2, gw: gw2 } = gatewayWithSink({
    block: block2,
    redisUrl: redis2.url,
    services: [redis2],
    instances: ['outbound'],
    files: {
      'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\nmax_failures=3\n[sender]\naction=monitor\n[lockout]\nmax_failures_per_ip=2\nmax_failures_per_user=0\nwindow_seconds=3\n',
    },
    prepare: ({ gw }) => addUser(gw.root, 'app@example.com'),
  })

  it('lets the client in again once the window has passed', async () => {
    const from = block2.ip(20)
    const check = await tlsSession(gw2, from) // ready before the failures: the 3 s window is not raced
    const client = await tlsSession(gw2, from)
    expect(codes(await auth(client, 'app@example.com', 'guess 1'))).toEqual([535, '5.7.8'])
    expect(codes(await auth(client, 'app@example.com', 'guess 2'))).toEqual([454, '4.7.0'])
    expect(codes(await auth(check, 'app@example.com', PASSWORD))).toEqual([454, '4.7.0'])

    const r = redis2.client()
    const key = `${gw2.redisPrefix}:authfail:ip:${from}`
    await vi.waitFor(
      async () => {
        if ((await r.exists(key)) === 1) throw new Error(`${key} did not expire`)
      },
      { timeout: 20_000, interval: 200 },
    )
    r.disconnect()
    await (await login(gw2, 'app@example.com', from)).quit()
  })

  it('monitor: an out-of-scope sender is recorded and counted, not refused, and nothing leaks into the message', async () => {
    const client = await login(gw2, 'app@example.com', block2.ip(21))
    const { text, marker } = testMessage({ from: 'ceo@example.com', to: 'colleague@example.com' })
    const r = await sendMail(client, { from: 'ceo@example.com', to: ['colleague@example.com'] }, text)
    await client.quit()
    expect([r.mail.code, r.end?.code]).toEqual([250, 250])
    const msg = await delivered(sink2, marker)
    expect(msg.from).toBe('ceo@example.com')
    expect(msg.raw).not.toMatch(/^X-Gateway-/im)
    expect(gw2.log('outbound')).toMatch(/decision check=sender-scope result=envelope_out_of_scope action=monitor/)
    expect(gw2.log('outbound')).toMatch(/decision check=sender-scope result=header_from_out_of_scope action=monitor/)
  })

  it('with Redis down, counts failures in the process: the limit locks (454) across sessions, other clients pass, the window still ends', async () => {
    await redis2.stop()
    const from = block2.ip(22)
    const client = await tlsSession(gw2, from)
    expect(codes(await auth(client, 'app@example.com', 'guess 1'))).toEqual([535, '5.7.8'])
    expect(codes(await authLogin(client, 'app@example.com', 'guess 2'))).toEqual([454, '4.7.0'])
    await client.waitClosed()
    // a new session from the same address, with the right password: still locked
    expect(codes(await tryOnce(gw2, from, 'app@example.com', PASSWORD, 1))).toEqual([454, '4.7.0'])
    await (await login(gw2, 'app@example.com', block2.ip(23))).quit()
    expect(gw2.log('outbound')).toContain('auth lockout: Redis unavailable')
    expect(gw2.log('outbound').match(/auth lockout: Redis unavailable/g)).toHaveLength(1) // said once, not per attempt
    // the 3 s window ends in the process as it does in Redis
    await new Promise((r) => setTimeout(r, 3500))
    await (await login(gw2, 'app@example.com', from)).quit()
    expect(gw2.isRunning('outbound')).toBe(true)
  })
})
