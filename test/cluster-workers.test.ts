// Both instances in Haraka's cluster mode (smtp.ini nodes=2, one worker per core
// on the 2-core CI machines): Node's cluster master hands parallel sessions to
// the workers in turn, so every piece of state one worker keeps must be shared or
// it breaks. Checked over real SMTP: exact counters in Redis and the queue depth
// of `gateway report` (the instance's, not one worker's), the outbound AUTH
// lockout and the recipient harvest defence across workers, quarantine release,
// the `gateway queue` commands (hold, flush, flush DOMAIN, list) on mail owned by
// either worker (queue files carry the pid of the worker that queued them), and
// `gateway track`. nodes=cpus, as the README advises for production, is started
// literally too, and a stop right after mail loses no count.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Redis from 'ioredis'
import { afterAll, describe, expect, inject, it, vi } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { QuarantineStore } from '../lib/quarantine/store'
import { listQueue } from '../lib/queue/qfile'
import { base64, type SmtpClient, type SmtpReply } from '../lib/smtp/client'
import { addUser, outboundWithPartnerMx, sendOne } from './helpers/fixtures'
import type { TestGateway, Instance } from './helpers/gateway'
import { eventually, queueCli, queueRows } from './helpers/outbound-queue'
import { relayOne } from './helpers/outbound-relay'
import { waitForReport } from './helpers/report-cli'
import { gatewayCli, type TrackJson } from './helpers/tracking'

const CLUSTER_SMTP_INI = (nodes: string) => `[main]\nnodes=${nodes}\ngraceful_shutdown=true\nforce_shutdown_timeout=1\n`
const PASSWORD = 'correct horse battery'
const RELAY = 'relay@example.com'
const NODE = 'cluster-node'

const f = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  env: { GATEWAY_NODE_NAME: NODE },
  files: {
    // queue depth sampled every second (shipped: a minute), so a test can read it
    'config/gateway.ini': fs.readFileSync(path.join(GATEWAY_ROOT, 'config', 'gateway.ini'), 'utf8').replace(/^queue_sample_interval=.*$/m, 'queue_sample_interval=1s'),
    'inbound/config/smtp.ini': CLUSTER_SMTP_INI('2'),
    'outbound/config/smtp.ini': CLUSTER_SMTP_INI('2'),
    'inbound/config/valid_recipients': 'alice@example.com\nbob@example.com\n',
    'inbound/config/gateway-recipients.ini': '[harvest]\nslow_after=2\nblock_after=4\ndelay_ms=50\nwindow_seconds=60\n',
    // spoofs of the CFO are held in the quarantine
    'inbound/config/gateway-sender-filter.ini': '[spoofing]\naction=reject\n[protected]\naddresses[]=cfo@example.com\naction=quarantine\n[blocklist]\naction=reject\n',
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\nmax_failures=10\n[lockout]\nmax_failures_per_ip=3\nmax_failures_per_user=3\nwindow_seconds=600\n',
    // retries a minute apart: only a flush retries within a test
    'inbound/config/outbound.ini': '[main]\ntemp_fail_intervals=1m*5\nreceived_header=disabled\n',
    'outbound/config/outbound.ini': '[main]\ntemp_fail_intervals=1m*5\nreceived_header=disabled\nlocal_mx_ok=true\n',
  },
  prepare: ({ gw }) => {
    addUser(gw, RELAY, PASSWORD)
    addUser(gw, 'victim@example.com', PASSWORD)
  },
})
const { gw, block } = f
// a domain whose MX is down (nothing listens there): its mail waits for a retry
f.dns.add('down.test', { type: 'MX', preference: 10, exchange: 'mx.down.test' }).add('mx.down.test', { type: 'A', data: block.ip(11) })
const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

/** The worker pids an instance's master logged ("worker started ... pid=N"), once all `n` are listening. */
async function workerPids(g: TestGateway, instance: Instance, n = 2): Promise<number[]> {
  return vi.waitFor(
    () => {
      const log = g.log(instance)
      const listening = log.match(/worker \d+ listening on/g)?.length ?? 0
      const pids = [...log.matchAll(/worker started[^\n]*?pid[=:" ]+(\d+)/g)].map((m) => Number(m[1]))
      if (listening < n || pids.length < n) throw new Error(`${instance}: ${listening} of ${n} workers listening:\n${log.slice(-2000)}`)
      return pids
    },
    { timeout: 30_000, interval: 100 },
  )
}

/** The pids of the processes that queued `domain`'s mail in an instance's queue (part of each queue file name). */
const queuedBy = (instance: Instance, domain: string) =>
  [...new Set(listQueue(path.join(gw.root, instance, 'queue')).filter((m) => m.todo?.domain === domain).map((m) => m.name.pid))].sort()

const queuedCount = (instance: Instance, domain: string) => listQueue(path.join(gw.root, instance, 'queue')).filter((m) => m.todo?.domain === domain).length

const logCount = (instance: Instance, pattern: RegExp) => gw.log(instance).match(new RegExp(pattern.source, 'g'))?.length ?? 0

const codes = (r: SmtpReply | undefined) => [r?.code, r?.enhanced]

async function tlsSession(from: string): Promise<SmtpClient> {
  const { client } = await gw.connect('outbound', from)
  await client.ehlo()
  expect((await client.startTls()).code).toBe(220)
  await client.ehlo()
  return client
}

/** One outbound session that tries one password and hangs up; the AUTH reply. */
async function tryAuth(from: string, user: string, password: string): Promise<SmtpReply> {
  const client = await tlsSession(from)
  const r = await client.send(`AUTH PLAIN ${base64(`\0${user}\0${password}`)}`)
  await client.quit()
  return r
}

describe('both instances with nodes=2', () => {
  it('starts two workers per instance', async () => {
    const [inbound, outbound] = await Promise.all([workerPids(gw, 'inbound'), workerPids(gw, 'outbound')])
    expect(new Set(inbound).size).toBe(2)
    expect(new Set(outbound).size).toBe(2)
  })

  it('spreads parallel sessions over both workers, a hold and a flush reach both, and the counters add up exactly', async () => {
    const workers = { inbound: (await workerPids(gw, 'inbound')).sort(), outbound: (await workerPids(gw, 'outbound')).sort() }
    // held: the mail stays in the queue files, which name the worker that took it
    for (const [instance, domain] of [['inbound', 'example.com'], ['outbound', 'partner.test']] as const) {
      const hold = queueCli(gw, '--instance', instance, 'hold', domain)
      expect(hold.status, hold.stderr).toBe(0)
    }
    const from = `counted-${Date.now()}@sender.test`
    const inbound = await Promise.all(Array.from({ length: 10 }, (_, i) => sendOne(gw, { from, to: [i % 2 ? 'alice@example.com' : 'bob@example.com'] })))
    expect(inbound.map((s) => s.end?.code)).toEqual(Array(10).fill(250))
    const outbound = await Promise.all(Array.from({ length: 6 }, (_, i) => relayOne(gw, { user: RELAY, password: PASSWORD, from: RELAY, to: [`p${i}@partner.test`] })))
    expect(outbound.map((r) => r.end?.code)).toEqual(Array(6).fill(250))

    await eventually('10 inbound and 6 outbound messages held', () => queuedCount('inbound', 'example.com') === 10 && queuedCount('outbound', 'partner.test') === 6)
    // each held message was offered to the hold check by the worker that owns it (none was sent)
    await eventually('every held message checked', () => logCount('inbound', /not attempted: domain example\.com is held/) >= 10 && logCount('outbound', /not attempted: domain partner\.test is held/) >= 6)
    expect(f.internal.messages.filter((m) => m.from === from)).toEqual([])
    expect(f.remoteMx.messages).toEqual([])
    expect(queuedBy('inbound', 'example.com')).toEqual(workers.inbound)
    expect(queuedBy('outbound', 'partner.test')).toEqual(workers.outbound)
    // the queue depth in `gateway report` is the instance's, not one worker's (nor the idle master's 0)
    const sampled = await waitForReport(gw, ['--since', '1h', '--node', NODE], (x) => x.queue.inbound.depth === 10 && x.queue.outbound.depth === 6)
    expect([sampled.queue.inbound.depth, sampled.queue.outbound.depth]).toEqual([10, 6])
    const rows = queueRows(gw, 'outbound')
    expect(rows.filter((r) => r.domain === 'partner.test').map((r) => r.next)).toEqual(Array(6).fill('held'))

    // a flush of everything reaches both workers; the hold still keeps the mail back
    const heldBefore = logCount('outbound', /not attempted: domain partner\.test is held/)
    expect(queueCli(gw, 'flush').status).toBe(0)
    await eventually('both outbound workers re-checked the hold', () => logCount('outbound', /not attempted: domain partner\.test is held/) >= heldBefore + 6)
    expect(f.remoteMx.messages).toEqual([])

    // release + flush DOMAIN: both workers deliver what they hold, at once (not after the 60 s hold recheck)
    for (const [instance, domain] of [['inbound', 'example.com'], ['outbound', 'partner.test']] as const) {
      expect(queueCli(gw, '--instance', instance, 'release', domain).status).toBe(0)
      const flush = queueCli(gw, '--instance', instance, 'flush', domain)
      expect(flush.status, flush.stderr).toBe(0)
    }
    await f.remoteMx.waitFor(6)
    await eventually('10 inbound messages delivered', () => f.internal.messages.filter((m) => m.from === from).length === 10)
    await gw.waitForEmptyQueue('inbound')
    await gw.waitForEmptyQueue('outbound')

    const r = await waitForReport(gw, ['--since', '1h', '--node', NODE], (x) => x.delivery.inbound.deliveries === 10 && x.delivery.outbound.deliveries === 6)
    expect(r.messages).toMatchObject({ in: 10, out: 6 })
    expect(r.auth.successes).toBe(6)
    expect(r.delivery.inbound).toMatchObject({ deliveries: 10, deferrals: 0, bounces: 0 })
    expect(r.delivery.outbound).toMatchObject({ deliveries: 6, deferrals: 0, bounces: 0 })

    // message tracking finds all ten, whichever worker took them
    const track = await gatewayCli(gw, ['track', '--from', from, '--limit', '100', '--json'])
    expect(track.status, track.stderr).toBe(0)
    const doc = JSON.parse(track.stdout) as TrackJson
    const ids = doc.messages.map((m) => m.messageId)
    expect(new Set(ids)).toEqual(new Set(inbound.map((s) => `<${s.marker}@test.invalid>`)))
    for (const m of doc.messages) expect(m.records.map((x) => x.record.status)).toEqual(['accepted'])
  })

  it('a flush for one domain leaves the other domains waiting in both workers on their schedule', async () => {
    const workers = (await workerPids(gw, 'outbound')).sort()
    const waiting = await Promise.all([0, 1, 2, 3].map((i) => relayOne(gw, { user: RELAY, password: PASSWORD, from: RELAY, to: [`w${i}@down.test`] })))
    expect(waiting.map((r) => r.end?.code)).toEqual(Array(4).fill(250))
    await eventually('4 down.test messages deferred', () => listQueue(path.join(gw.root, 'outbound', 'queue')).filter((m) => m.todo?.domain === 'down.test' && m.name.attempts === 1).length === 4)
    expect(queuedBy('outbound', 'down.test')).toEqual(workers)

    // something for partner.test to flush (flush DOMAIN does nothing without it): held, then released
    expect(queueCli(gw, 'hold', 'partner.test').status).toBe(0)
    const marker = (await relayOne(gw, { user: RELAY, password: PASSWORD, from: RELAY, to: ['flushed@partner.test'] })).marker
    await eventually('the partner.test message held', () => logCount('outbound', /not attempted: domain partner\.test is held/) >= 1 && queuedCount('outbound', 'partner.test') === 1)
    expect(queueCli(gw, 'release', 'partner.test').status).toBe(0)
    const putBack = /not attempted: flush was for partner\.test only/
    const before = logCount('outbound', putBack)
    expect(queueCli(gw, 'flush', 'partner.test').status).toBe(0)
    await f.remoteMx.waitForMessage((m) => m.raw.includes(marker), 'the flushed message')
    // both workers read the scope the command wrote just before its signal, and put their down.test mail back
    await eventually('4 down.test messages put back', () => logCount('outbound', putBack) >= before + 4)
    expect(listQueue(path.join(gw.root, 'outbound', 'queue')).filter((m) => m.todo?.domain === 'down.test').map((m) => m.name.attempts)).toEqual([1, 1, 1, 1])
  })

  it('locks an account after 3 wrong passwords spread over both workers, and counts exactly', async () => {
    const user = 'victim@example.com'
    // one session after another: the workers take them in turn
    const replies: SmtpReply[] = []
    for (let i = 0; i < 3; i++) replies.push(await tryAuth(block.ip(70 + i), user, `guess ${i}`))
    expect(replies.map(codes)).toEqual([
      [535, '5.7.8'],
      [535, '5.7.8'],
      [454, '4.7.0'],
    ])
    // locked everywhere: the right password from other addresses, on either worker
    const after = await Promise.all([0, 1, 2, 3].map((i) => tryAuth(block.ip(80 + i), user, PASSWORD)))
    expect(after.map(codes)).toEqual(Array(4).fill([454, '4.7.0']))
    expect(await redis.get(`${gw.redisPrefix}:authfail:user:${user}`)).toBe('3')

    // 20 wrong passwords in parallel from 4 addresses: at most the limit's worth checked
    const spray = await Promise.all(Array.from({ length: 20 }, (_, i) => tryAuth(block.ip(90 + (i % 4)), `spray${i}@example.com`, 'guess')))
    expect(spray.every((r) => r.code === 535 || (r.code === 454 && r.enhanced === '4.7.0'))).toBe(true)
    for (let i = 0; i < 4; i++) expect(Number(await redis.get(`${gw.redisPrefix}:authfail:ip:${block.ip(90 + i)}`))).toBeLessThanOrEqual(3)
  })

  it('cuts off a recipient harvester whose sessions land on both workers', async () => {
    const prober = block.ip(66)
    const probe = async (user: string): Promise<number> => {
      const { client } = await gw.connect('inbound', prober)
      await client.ehlo()
      await client.send('MAIL FROM:<x@sender.test>')
      const r = await client.send(`RCPT TO:<${user}@example.com>`)
      await client.quit()
      return r.code
    }
    const got = []
    for (const user of ['h1', 'h2', 'h3', 'h4']) got.push(await probe(user))
    expect(got).toEqual([550, 550, 550, 421])
    expect(Number(await redis.get(`${gw.redisPrefix}:harvest:${prober}`))).toBe(4)
    // the next sessions, on either worker: refused at connect, or (a worker reuses a count it read
    // at connect for up to 2 s: lib/recipients/harvest.ts CONNECT_READ_TTL_MS) at the first probe
    for (let i = 0; i < 2; i++) {
      const again = await gw.connect('inbound', prober)
      if (again.greeting.code === 220) {
        await again.client.ehlo()
        await again.client.send('MAIL FROM:<x@sender.test>')
        expect(codes(await again.client.send('RCPT TO:<h5@example.com>'))).toEqual([421, '4.7.0'])
      } else {
        expect(codes(again.greeting)).toEqual([421, '4.7.0'])
      }
      await again.client.waitClosed()
    }
  })

  it('quarantines from both workers and `gateway quarantine release` delivers the released messages', async () => {
    const store = new QuarantineStore(path.join(gw.root, 'inbound', 'quarantine'))
    const sent = await Promise.all(Array.from({ length: 4 }, (_, i) => sendOne(gw, { from: 'x@sender.test', headerFrom: 'cfo@example.com', to: ['alice@example.com'], subject: `spoof ${i}` })))
    expect(sent.map((s) => s.end?.code)).toEqual(Array(4).fill(250))
    await eventually('4 messages quarantined', () => store.list().length === 4)
    for (const { id } of store.list()) {
      const r = await gatewayCli(gw, ['quarantine', 'release', id])
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^released ${id}`))
    }
    for (const s of sent) await eventually(`released ${s.marker} delivered`, () => f.internal.messages.filter((m) => m.raw.includes(s.marker)).length === 1)
    expect(store.list()).toEqual([])
    const r = await waitForReport(gw, ['--since', '1h', '--node', NODE], (x) => x.quarantine.released === 4)
    expect(r.quarantine).toEqual({ quarantined: 4, released: 4 })
  })
})

describe('nodes=cpus', () => {
  it('starts one worker per core and delivers', async () => {
    const g = f.another({ instances: ['inbound'], files: { 'inbound/config/smtp.ini': CLUSTER_SMTP_INI('cpus') } })
    try {
      await g.start()
      const pids = await workerPids(g, 'inbound', os.cpus().length)
      expect(pids.length).toBeGreaterThanOrEqual(1)
      const s = await sendOne(g, { from: 'x@sender.test', to: ['alice@example.com'] })
      expect(s.end?.code).toBe(250)
      await eventually('delivered', () => f.internal.messages.some((m) => m.raw.includes(s.marker)))
      // a stop right after more mail: the workers' last counts reach Redis before they exit
      const more = await Promise.all([0, 1, 2].map(() => sendOne(g, { from: 'x@sender.test', to: ['alice@example.com'] })))
      expect(more.map((m) => m.end?.code)).toEqual([250, 250, 250])
      await g.stopInstance('inbound')
      const r = await waitForReport(g, ['--since', '1h'], (x) => x.messages.in === 4)
      expect(r.messages.in).toBe(4)
    } finally {
      await g.stop()
    }
  })
})
