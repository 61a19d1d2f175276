// Link state per destination (`gateway links`), over real instances and a real
// Redis: an outbound partner MX that tempfails, then recovers, then refuses one
// recipient for good; the inbound instance with its internal server down (seen by
// the probe and by deferrals), on two gateway nodes sharing one Redis, then the
// server back; and the `gateway start` banner naming an internal server that does
// not answer.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import type { LinksJson } from '../lib/links/view'
import { FixtureDns } from './helpers/dns-server'
import { makeDeploymentRoot, sendMail, testMessage, TestGateway } from './helpers/gateway'
import { linkOf, linksCli, linksCliWith, linksJson } from './helpers/links-cli'
import { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'
import { addRelayUser, queueCli, queueRows, submit } from './helpers/outbound-queue'
import { freePort } from './helpers/redis-server'
import { lastReading, waitForMatch } from './helpers/wait'

const block = addressBlock()
const USER = 'app@example.com'
const internalHost = `${block.ip(3)}:2526`
const dns = new FixtureDns(block.ip(53), 5353)
  .add('partner.test', { type: 'MX', preference: 10, exchange: 'mx.partner.test' })
  .add('mx.partner.test', { type: 'A', data: block.ip(10) })
// the partner MX offers STARTTLS and first answers every DATA with 451
const partnerMx = new MailSink({ host: block.ip(10), port: 25, tls: true, failData: { code: 451, text: '4.3.0 try again later' } })
// the internal server: down until a test starts it
const internal = new MailSink({ host: block.ip(3), port: 2526 })

/** The shipped gateway.ini with the internal servers probed every second. */
const gatewayIni = fs.readFileSync(path.join(GATEWAY_ROOT, 'config', 'gateway.ini'), 'utf8').replace(/^probe_interval=.*$/m, 'probe_interval=1s')
const files = { 'config/gateway.ini': gatewayIni }

const nodeA = new TestGateway({
  block,
  redisUrl: inject('redisUrl'),
  internalHosts: [internalHost],
  dnsServer: dns.address,
  instances: ['inbound', 'outbound'],
  files,
  env: { GATEWAY_NODE_NAME: 'node-a' },
})
// a second gateway node on the same Redis prefix, delivering to the same internal server
const nodeB = new TestGateway({
  block: addressBlock(),
  redisUrl: inject('redisUrl'),
  internalHosts: [internalHost],
  dnsServer: dns.address,
  instances: ['inbound'],
  files,
  env: { GATEWAY_NODE_NAME: 'node-b', GATEWAY_REDIS_PREFIX: nodeA.redisPrefix },
})

beforeAll(async () => {
  expect(gatewayIni).toMatch(/^probe_interval=1s$/m)
  await Promise.all([dns.start(), partnerMx.start()])
  addRelayUser(nodeA, USER)
  await Promise.all([nodeA.start(), nodeB.start()])
}, 90_000)
afterAll(async () => {
  await Promise.all([nodeA.stop(), nodeB.stop()])
  await Promise.all([dns.stop(), partnerMx.stop(), internal.stop()])
})

/** Reads `gateway links --json` until `done` holds (or 20 s), returns the last document. */
function linksUntil(done: (doc: LinksJson) => boolean, ...args: string[]): Promise<LinksJson> {
  // generous: under a loaded CI machine a delivery, a probe round and a batch flush can take many seconds
  return lastReading(() => linksJson(nodeA, ...args), done, { timeoutMs: 45_000, intervalMs: 300 })
}

// each test waits for several states in turn (see linksUntil): room for all of them on a loaded machine
const SLOW = { timeout: 240_000 }

describe('outbound: a remote domain', () => {
  it('shows the domain FAILING with the 4xx reply and the message waiting, then ok after the MX recovers, with TLS', SLOW, async () => {
    await submit(nodeA, { user: USER, from: USER, to: ['someone@partner.test'] })
    await nodeA.waitForDeferred('outbound', 'partner.test')
    const failing = await linksUntil((d) => (linkOf(d, 'outbound', 'partner.test')?.deliveryFailures ?? 0) >= 1, '--instance', 'outbound')
    expect(failing.version).toBe(1)
    expect(failing.links.every((l) => l.instance === 'outbound')).toBe(true)
    const f = linkOf(failing, 'outbound', 'partner.test')!
    expect(f).toMatchObject({ state: 'failing', waiting: 1, lastSuccess: null, node: 'node-a' })
    expect(f.consecutiveFailures).toBeGreaterThanOrEqual(1)
    expect(f.lastFailure).toMatchObject({ source: 'delivery' })
    expect(f.lastFailure!.reply).toMatch(/451 4\.3\.0 try again later/)
    expect(Date.parse(f.oldestWaiting!)).toBeGreaterThan(Date.now() - 60_000)

    partnerMx.failData = undefined
    nodeA.flushQueue('outbound')
    await partnerMx.waitFor(1)
    const ok = await linksUntil((d) => linkOf(d, 'outbound', 'partner.test')?.state === 'ok', '--instance', 'outbound')
    const o = linkOf(ok, 'outbound', 'partner.test')!
    expect(o).toMatchObject({ state: 'ok', consecutiveFailures: 0, waiting: 0, oldestWaiting: null, tls: true })
    expect(o.lastSuccess).toMatchObject({ host: 'mx.partner.test', tls: true })
    // the last failure stays on record
    expect(o.lastFailure!.reply).toMatch(/451/)
  })

  it('records a permanent 5xx as the last bounce, without counting a link failure', SLOW, async () => {
    partnerMx.failFor = (to) => (to.includes('nobody@partner.test') ? { code: 550, text: '5.1.1 no such user here' } : undefined)
    await submit(nodeA, { user: USER, from: USER, to: ['nobody@partner.test'] })
    const doc = await linksUntil((d) => linkOf(d, 'outbound', 'partner.test')?.lastBounce != null, '--instance', 'outbound')
    const l = linkOf(doc, 'outbound', 'partner.test')!
    expect(l.lastBounce!.reply).toMatch(/550 5\.1\.1 no such user here/)
    expect(l).toMatchObject({ state: 'ok', consecutiveFailures: 0, waiting: 0 })
  })
})

describe('inbound: the internal server, on two gateway nodes', () => {
  it('shows it FAILING by the probe, then by deferrals with every waiting message of both nodes; ok once it is back', SLOW, async () => {
    const probed = await linksUntil((d) => (linkOf(d, 'inbound', internalHost)?.probeFailures ?? 0) >= 1, '--instance', 'inbound')
    const p = linkOf(probed, 'inbound', internalHost)!
    expect(p.state).toBe('failing')
    expect(p.lastProbe).toMatchObject({ ok: false })
    expect(p.lastFailure).toMatchObject({ source: 'probe', reply: 'connect ECONNREFUSED' })

    // 2 messages through node A, 1 through node B: all wait for the same server, counted once each
    for (const gw of [nodeA, nodeA, nodeB]) {
      const { client } = await gw.connect('inbound')
      await client.ehlo('mx.sender.test')
      const { text } = testMessage({ from: 'a@sender.test', to: 'user@example.com' })
      expect((await sendMail(client, { from: 'a@sender.test', to: ['user@example.com'] }, text)).end?.code).toBe(250)
      await client.quit()
    }
    await Promise.all([nodeA.waitForDeferred('inbound'), nodeB.waitForDeferred('inbound')])
    const waiting = await linksUntil((d) => {
      const l = linkOf(d, 'inbound', internalHost)
      return l !== undefined && l.waiting === 3 && l.deliveryFailures >= 2
    }, '--instance', 'inbound')
    const w = linkOf(waiting, 'inbound', internalHost)!
    expect(w).toMatchObject({ state: 'failing', waiting: 3 })
    expect(w.deliveryFailures).toBeGreaterThanOrEqual(2) // one deferral on each node at least
    expect(['node-a', 'node-b']).toContain(w.node)

    // a message an administrator deletes from the queue stops waiting (and says nothing about the link)
    const [victim] = queueRows(nodeA, 'inbound')
    expect(queueCli(nodeA, '--instance', 'inbound', 'delete', victim!.id!).status).toBe(0)
    nodeA.flushQueue('inbound')
    const afterDelete = await linksUntil((d) => linkOf(d, 'inbound', internalHost)?.waiting === 2, '--instance', 'inbound')
    expect(linkOf(afterDelete, 'inbound', internalHost)!.waiting).toBe(2)

    // text: failing first (the internal server), then the outbound domain that works
    const text = linksCli(nodeA)
    expect(text.status, text.stderr).toBe(0)
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^INSTANCE +DESTINATION +STATE +FAILURES +LAST SUCCESS +LAST FAILURE +WAITING +OLDEST +TLS$/)
    expect(lines[1]).toMatch(new RegExp(`^inbound +${internalHost.replace(/\./g, '\\.')} +FAILING +\\d+ +never +(now|\\S+ ago): .+ +2 +(\\d+[smh]|now) +-$`))
    expect(lines.find((l) => l.includes('partner.test'))).toMatch(/^outbound +partner\.test +ok +0 +(now|\S+ ago) +.+ +0 +- +yes$/)

    await internal.start()
    nodeA.flushQueue('inbound')
    nodeB.flushQueue('inbound')
    await internal.waitFor(2)
    const back = await linksUntil((d) => {
      const l = linkOf(d, 'inbound', internalHost)
      return l?.state === 'ok' && l.waiting === 0
    }, '--instance', 'inbound')
    const b = linkOf(back, 'inbound', internalHost)!
    expect(b).toMatchObject({ state: 'ok', consecutiveFailures: 0, waiting: 0, tls: false })
    expect(b.lastSuccess!.host).toBe(block.ip(3))
  })
})

describe('gateway links: usage and Redis', () => {
  it('refuses unknown arguments with 64 and says when Redis does not answer (69)', async () => {
    const usage = linksCli(nodeA, '--instance', 'sideways')
    expect(usage.status).toBe(64)
    expect(usage.stderr).toMatch(/usage: gateway links/)
    const down = linksCliWith(nodeA, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` })
    expect(down.status).toBe(69)
    expect(down.stderr).toMatch(/Redis is not reachable/)
  })
})

describe('gateway start banner', () => {
  it('names an internal server that does not answer', async () => {
    const b = addressBlock()
    const shipped = (file: string) => fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', file), 'utf8')
    const withServer = (ini: string, server: string) => ini.replace(/^server=.*\n/m, '').replace(/^\[main\]$/m, `[main]\nserver=${server}`)
    const root = makeDeploymentRoot({
      'config/gateway.ini': `[internal]\nhosts[]=${b.ip(3)}:2526\n[demo]\nmailbox_listen=off\n`,
      // scanners OFF quickly: nothing answers at their addresses and their programs do not exist
      'inbound/config/gateway-spam.ini': withServer(shipped('gateway-spam.ini'), `127.0.0.1:${await freePort()}`),
      'inbound/config/gateway-antivirus.ini': withServer(shipped('gateway-antivirus.ini'), '/nonexistent/clamd.ctl'),
    })
    const { NODE_ENV: _n, VITEST: _v, ...inherited } = process.env
    const child = spawn(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'start'], {
      env: {
        ...inherited,
        GATEWAY_ROOT: root,
        REDIS_URL: inject('redisUrl'),
        GATEWAY_REDIS_PREFIX: `${nodeA.redisPrefix}start`,
        RSPAMD_BIN: '/nonexistent/rspamd',
        CLAMD_BIN: '/nonexistent/clamd',
        GATEWAY_INBOUND_LISTEN: `${b.ip(1)}:2525`,
        GATEWAY_OUTBOUND_LISTEN: `${b.ip(2)}:2587`,
        GATEWAY_DASHBOARD_LISTEN: 'off', // the shipped 127.0.0.1:9180 would collide with other gateways started at once
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      await waitForMatch(() => out, /Edge SMTP gateway is running[^]*Stop:/, { timeoutMs: 45_000, where: 'launcher output' })
      expect(out).toContain(`  internal  ${b.ip(3)}:2526 UNREACHABLE (connect ECONNREFUSED): inbound mail will wait in the queue`)
      // right under the line saying where inbound mail goes
      expect(out).toMatch(new RegExp(`delivers it through its disk queue to: .*\\n  internal  ${b.ip(3).replace(/\./g, '\\.')}:2526 UNREACHABLE`))
    } finally {
      child.kill('SIGINT')
      expect(await exit).toBe(0)
      fs.rmSync(root, { recursive: true, force: true })
    }
  }, 90_000)
})
