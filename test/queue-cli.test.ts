// `gateway queue` on real queues of running instances: list shows what waits and
// why, hold keeps a domain's mail from being attempted even when its MX is up,
// release + flush delivers it, a flush for one domain leaves the others on their
// schedule, and delete removes a message so it is never delivered.

import path from 'node:path'

import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'

import { listQueue } from '../lib/queue/qfile'
import { FixtureDns } from './helpers/dns-server'
import { sendMail, testMessage, TestGateway } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import { addRelayUser, eventually, outboundPluginsWith, queueCli, queueRows, submit } from './helpers/outbound-queue'
import { MailSink } from './helpers/mail-sink'

const block = addressBlock()
// MX hosts that are down (nothing listens) until a test starts them
const mxIp = { slow: block.ip(20), other: block.ip(21), gone: block.ip(22) }
const dns = new FixtureDns(block.ip(53), 5353)
for (const [domain, ip] of [
  ['slow.test', mxIp.slow],
  ['other.test', mxIp.other],
  ['gone.test', mxIp.gone],
] as const) {
  dns.add(domain, { type: 'MX', preference: 10, exchange: `mx.${domain}` }).add(`mx.${domain}`, { type: 'A', data: ip })
}
const started: MailSink[] = []
async function bringUp(ip: string): Promise<MailSink> {
  const sink = await new MailSink({ host: ip, port: 25 }).start()
  started.push(sink)
  return sink
}

const gw = new TestGateway({
  block,
  redisUrl: inject('redisUrl'),
  // the internal server is down: inbound mail waits in the inbound queue
  internalHosts: [`${block.ip(3)}:2526`],
  dnsServer: dns.address,
  instances: ['inbound', 'outbound'],
  files: {
    'outbound/config/plugins': outboundPluginsWith('gateway-queue', 'gateway-bounce', 'gateway-tls-policy'),
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
    // retries a minute apart: in these tests only a flush retries
    'outbound/config/outbound.ini': '[main]\ntemp_fail_intervals=1m*5\nreceived_header=disabled\nlocal_mx_ok=true\n',
    'inbound/config/outbound.ini': '[main]\ntemp_fail_intervals=1m*5\nreceived_header=disabled\n',
  },
})
const USER = 'app@example.com'
const outboundQueue = () => listQueue(path.join(gw.root, 'outbound', 'queue'))

beforeAll(async () => {
  await dns.start()
  addRelayUser(gw, USER)
  await gw.start()
})
afterAll(async () => {
  await gw.stop()
  await Promise.all([dns.stop(), ...started.map((s) => s.stop())])
})

/** Waits until the queued message for `domain` has failed at least once (its file renamed). */
const deferred = (domain: string) => gw.waitForDeferred('outbound', domain)

function count(pattern: RegExp): number {
  return gw.log('outbound').match(new RegExp(pattern.source, 'g'))?.length ?? 0
}

async function waitForMore(pattern: RegExp, before: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (count(pattern) <= before) throw new Error(`log has no new ${pattern}:\n${gw.log('outbound').slice(-2000)}`)
    },
    { timeout: 20_000, interval: 50 },
  )
}

describe('gateway queue (outbound)', () => {
  it('lists a message waiting for an unreachable MX with its domain, attempts and last error', async () => {
    await submit(gw, { user: USER, from: USER, to: ['someone@slow.test'] })
    await submit(gw, { user: USER, from: USER, to: ['someone@other.test'] })
    await Promise.all([deferred('slow.test'), deferred('other.test')])
    const row = queueRows(gw).find((r) => r.domain === 'slow.test')
    expect(row).toMatchObject({ domain: 'slow.test', attempts: '1', from: USER, to: 'someone@slow.test' })
    expect(row!.id).toMatch(/^[a-z0-9]+$/i)
    expect(row!.age).toMatch(/^\d+[smhd]/)
    expect(row!.next).toMatch(/^in \d+/)
    expect(row!.last_error).toMatch(/Tried all MXs/)
  })

  it('hold: a held domain is not attempted, even when its MX is up and the queue is flushed', async () => {
    const hold = queueCli(gw, 'hold', 'SLOW.test')
    expect(hold.status, hold.stderr).toBe(0)
    expect(hold.stdout).toMatch(/holding slow\.test \(1 queued\)/)
    expect(queueCli(gw, 'held').stdout.trim()).toBe('slow.test')
    const sink = await bringUp(mxIp.slow)
    const held = /not attempted: domain slow\.test is held/
    const before = count(held)
    const flush = queueCli(gw, 'flush')
    expect(flush.status, flush.stderr).toBe(0)
    expect(flush.stdout).toMatch(/retrying all queued mail now \(outbound, pid \d+\)/)
    await waitForMore(held, before)
    expect(sink.sessions).toEqual([])
    expect(queueRows(gw).find((r) => r.domain === 'slow.test')).toMatchObject({ attempts: '1', next: 'held' })
  })

  it('release + flush DOMAIN delivers it, and leaves other domains on their schedule', async () => {
    const sink = started.find((s) => s.opts.host === mxIp.slow)!
    const release = queueCli(gw, 'release', 'slow.test')
    expect(release.status, release.stderr).toBe(0)
    expect(release.stdout).toMatch(/released slow\.test/)
    const otherBack = /not attempted: flush was for slow\.test only/
    const before = count(otherBack)
    const otherAttempts = queueRows(gw).find((r) => r.domain === 'other.test')!.attempts
    const flush = queueCli(gw, 'flush', 'slow.test')
    expect(flush.status, flush.stderr).toBe(0)
    const [msg] = await sink.waitFor(1)
    expect(msg!.to).toEqual(['someone@slow.test'])
    await waitForMore(otherBack, before) // other.test was pulled forward by SIGHUP and put back
    await eventually('only other.test left in the queue', () => outboundQueue().map((m) => m.todo?.domain).join() === 'other.test')
    expect(queueRows(gw).find((r) => r.domain === 'other.test')!.attempts).toBe(otherAttempts) // not tried
  })

  it('delete removes a queued message: never delivered, no DSN, gone from the list', async () => {
    await submit(gw, { user: USER, from: USER, to: ['someone@gone.test'] })
    await deferred('gone.test')
    const id = queueRows(gw).find((r) => r.domain === 'gone.test')!.id!
    const del = queueCli(gw, 'delete', id)
    expect(del.status, del.stderr).toBe(0)
    expect(del.stdout).toBe(`deleted ${id} (gone.test: someone@gone.test)\n`)
    expect(queueRows(gw).some((r) => r.domain === 'gone.test')).toBe(false)

    // Haraka still has it scheduled: with the MX up and a flush, it is dropped before any contact
    const sink = await bringUp(mxIp.gone)
    const dropped = /queue file \S+ was deleted by an administrator: dropped without delivery/
    const before = count(dropped)
    expect(queueCli(gw, 'flush').status).toBe(0)
    await waitForMore(dropped, before)
    await gw.waitForLog('outbound', /Not deferring\. Deleting mail\./)
    expect(sink.sessions).toEqual([])
    expect(outboundQueue().some((m) => m.todo?.domain === 'gone.test')).toBe(false)

    const again = queueCli(gw, 'delete', id)
    expect(again.status).toBe(1)
    expect(again.stderr).toMatch(new RegExp(`no queued message ${id}`))
  })

  it('refuses bad arguments with usage (exit 64)', () => {
    expect(queueCli(gw, 'hold').status).toBe(64)
    expect(queueCli(gw, 'hold', 'not a domain').status).toBe(64)
    expect(queueCli(gw, '--instance', 'sideways', 'list').status).toBe(64)
    expect(queueCli(gw, 'frobnicate').status).toBe(64)
  })
})

describe('gateway queue --instance inbound', () => {
  it('lists, flushes and holds mail waiting for the internal servers', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const { text } = testMessage({ from: 'alice@sender.test', to: 'bob@example.com' })
    const r = await sendMail(client, { from: 'alice@sender.test', to: ['bob@example.com'] }, text)
    await client.quit()
    expect(r.end?.code).toBe(250)
    await gw.waitForDeferred('inbound')
    const rows = queueRows(gw, 'inbound')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ domain: 'example.com', attempts: '1', from: 'alice@sender.test', to: 'bob@example.com' })

    const flush = queueCli(gw, '--instance', 'inbound', 'flush')
    expect(flush.status, flush.stderr).toBe(0)
    expect(flush.stdout).toMatch(/\(inbound, pid \d+\)/)
    await gw.waitForLog('inbound', /Flushing the temp fail queue/)

    // the shipped inbound instance loads gateway-queue too: hold works there
    const hold = queueCli(gw, '--instance=inbound', 'hold', 'example.com')
    expect(hold.status, hold.stderr).toBe(0)
    expect(queueCli(gw, '--instance=inbound', 'held').stdout).toContain('example.com')
    expect(queueCli(gw, '--instance=inbound', 'release', 'example.com').status).toBe(0)
  })
})
