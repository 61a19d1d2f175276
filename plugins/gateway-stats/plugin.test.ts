// Unit test of gateway-stats through the real adapter, without Haraka: its hooks
// drive the per-direction counters, and what lands in Redis (the suite's real
// redis-server, started by test/global-setup.ts) is exactly what happened:
// connections, accepted recipients and messages with their bytes, refusals by
// hook and code, checks' decisions. The shared settings come from a temporary
// folder; the key prefix is this file's own.

import * as constants from 'haraka-constants'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'

import { fakeConnection, fakeQueuedMail, fakeTransaction, pluginHarness, type Harness } from '../../lib/plugin/testing'
import { noteDecision } from '../../lib/policy/marks'
import { bucketsBetween } from '../../lib/stats/buckets'
import { countDecision } from '../../lib/stats/decisions'
import { waitForCounters } from '../../test/helpers/stats-counters'
import { sharedConfigForFile } from '../../test/helpers/shared-config'
import plugin from './plugin'

const PREFIX = `statsunit${process.pid}x${Math.floor(Math.random() * 1e9)}`
const FILE_START = Date.now()
sharedConfigForFile(`[internal]\nhosts[]=127.0.0.1:2526\n[redis]\nprefix=${PREFIX}\n[node]\nname=unit-node\n[stats]\nminute_ttl=2h\nhour_ttl=3d\nday_ttl=10d\n`)

let h: Harness
let redis: Redis

beforeAll(() => {
  redis = new Redis(inject('redisUrl'))
  h = pluginHarness(plugin, { instance: 'outbound' })
})

afterAll(async () => {
  await h.shutdown()
  redis.disconnect()
})

describe('gateway-stats', () => {
  it('registers its observers on both instances', () => {
    expect([...h.hooks].sort()).toEqual(['bounce', 'connect_init', 'deferred', 'delivered', 'deny', 'disconnect', 'queue_ok', 'rcpt_ok'])
  })

  it('counts what the hooks saw, per direction, exactly, and the checks decisions', async () => {
    const since = new Date()
    const c = fakeConnection()
    const txn = fakeTransaction(c, { from: 'app@example.com', to: ['a@partner.test', 'b@partner.test'], body: 'x'.repeat(4000) })
    expect(txn.data_bytes).toBeGreaterThan(4000)
    for (let i = 0; i < 3; i++) expect(await h.run('connect_init', c)).toEqual({ result: 'CONT' })
    await h.run('rcpt_ok', c, txn.rcpt_to[0])
    await h.run('rcpt_ok', c, txn.rcpt_to[1])
    await h.run('queue_ok', c, 'queued')
    // Haraka's deny hook params: [code, msg, plugin, method, params, hook]
    await h.run('deny', c, [constants.deny, 'no', 'x', 'hook_rcpt', [], 'rcpt'])
    await h.run('deny', c, [constants.denysoft, 'later', 'x', 'hook_rcpt', [], 'rcpt'])
    await h.run('deny', c, [constants.deny, 'no', 'x', 'hook_data_post', [], 'data_post'])
    await h.run('deny', c, [constants.denydisconnect, 'no', 'x', 'hook_connect', [], 'connect'])
    await h.run('deny', c, [constants.deny, 'no', 'x', 'hook_get_mx', [], 'get_mx']) // not a reception step: not counted
    countDecision('sender-scope', 'reject')

    const counted = await waitForCounters(redis, PREFIX, 'outbound', since, (m) => m.get('check:sender-scope:reject') === 1)
    expect(Object.fromEntries(counted)).toEqual({
      connections: 3,
      recipients_accepted: 2,
      messages_accepted: 1,
      bytes_accepted: txn.data_bytes,
      recipients_rejected: 1,
      recipients_tempfailed: 1,
      messages_rejected: 1,
      sessions_rejected: 1,
      'check:sender-scope:reject': 1,
      roi_unattributed: 1, // the data_post refusal: no recorded check decided it
    })
    expect(await redis.exists(`${PREFIX}:stats:inbound:${since.toISOString().slice(0, 10)}`)).toBe(0)
  })

  it("writes the same counters into this node's minute, hour and day buckets, each with its TTL, and lists the node", async () => {
    // the 3 connections of the test above and 2 more, since this file began
    const since = FILE_START
    const before = Date.now()
    const c = fakeConnection()
    await h.run('connect_init', c)
    await h.run('connect_init', c)
    const summed = async (g: 'm' | 'h' | 'd') => {
      let total = 0
      for (const b of bucketsBetween(g, since, Date.now())) total += Number((await redis.hget(`${PREFIX}:c:${g}:outbound:unit-node:${b}`, 'connections')) ?? 0)
      return total
    }
    await vi.waitFor(async () => expect(await summed('m')).toBe(5), { timeout: 15_000, interval: 100 })
    expect(await summed('h')).toBe(5)
    expect(await summed('d')).toBe(5)
    // the TTLs of the buckets this test wrote into: the clock may have crossed a minute
    // (or hour, or day) boundary since the writes, so every bucket from `before` to now
    const ttls = async (g: 'm' | 'h' | 'd') => {
      const found: number[] = []
      for (const b of bucketsBetween(g, before, Date.now())) {
        const ttl = await redis.ttl(`${PREFIX}:c:${g}:outbound:unit-node:${b}`)
        if (ttl !== -2) found.push(ttl)
      }
      expect(found.length, `no ${g} bucket written`).toBeGreaterThan(0)
      return found
    }
    for (const ttl of await ttls('m')) expect(ttl).toSatisfy((t: number) => t > 7000 && t <= 7200)
    for (const ttl of await ttls('h')) expect(ttl).toSatisfy((t: number) => t > 3 * 86_400 - 200 && t <= 3 * 86_400)
    for (const ttl of await ttls('d')) expect(ttl).toBeGreaterThan(10 * 86_400 - 200)
    expect(await redis.smembers(`${PREFIX}:nodes`)).toEqual(['unit-node'])
    expect(await redis.ttl(`${PREFIX}:nodes`)).toBeGreaterThan(10 * 86_400 - 200)
  })

  it('counts deliveries with their bytes, deferrals, bounces, AUTH successes, quarantine, and the ROI of a refused message', async () => {
    const since = new Date()
    const hmail = Object.assign(fakeQueuedMail({ domain: 'partner.test' }), { file_size: 1500, data_start: 300 })
    await h.run('delivered', hmail, [])
    expect(await h.run('deferred', hmail, { delay: 60, err: new Error('451 later') })).toEqual({ result: 'CONT' })
    expect(await h.run('bounce', hmail, new Error('550 no'))).toEqual({ result: 'CONT' })

    const authed = fakeConnection()
    authed.results.add({ name: 'auth' }, { pass: 'gateway-submission-auth', method: 'PLAIN', user: 'relay' })
    await h.run('disconnect', authed)

    const held = fakeConnection()
    fakeTransaction(held, { from: 'a@sender.test', to: ['b@example.com'] })
    noteDecision(held, { check: 'spam', result: 'scl_8', action: 'quarantine' })
    noteDecision(held, { check: 'dmarc', result: 'fail', action: 'monitor' })
    await h.run('queue_ok', held, 'queued')

    const refused = fakeConnection()
    fakeTransaction(refused, { from: 'x@example.com', to: ['b@example.com'] })
    noteDecision(refused, { check: 'sender-spoofing', result: 'internal_domain_envelope', action: 'reject' })
    await h.run('deny', refused, [constants.deny, 'no', 'x', 'hook_mail', [], 'mail'])

    const counted = await waitForCounters(redis, PREFIX, 'outbound', since, (m) => m.get('roi:first:sender-spoofing') === 1)
    expect(Object.fromEntries(counted)).toMatchObject({
      deliveries: 1,
      bytes_delivered: 1200,
      deferrals: 1,
      bounces: 1,
      auth_successes: 1,
      quarantined: 1,
      'spam_scl:7-9': 1,
      'roi:first:spam': 1,
      'roi:also:dmarc': 1,
      'roi:first:sender-spoofing': 1,
      'roi:only:sender-spoofing': 1,
    })
    expect(counted.has('roi:only:spam')).toBe(false)
  })
})
