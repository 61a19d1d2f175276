// Unit test of gateway-stats through the real adapter, without Haraka: its hooks
// drive the per-direction counters, and what lands in Redis (the suite's real
// redis-server, started by test/global-setup.ts) is exactly what happened:
// connections, accepted recipients and messages with their bytes, refusals by
// hook and code, checks' decisions. The shared settings come from a temporary
// folder; the key prefix is this file's own.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import * as constants from 'haraka-constants'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { fakeConnection, fakeTransaction, pluginHarness, type Harness } from '../../lib/plugin/testing'
import { countDecision } from '../../lib/stats/decisions'
import { waitForCounters } from '../../test/helpers/stats-counters'
import plugin from './plugin'

const PREFIX = `statsunit${process.pid}`
const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-test-'))
fs.writeFileSync(path.join(shared, 'gateway.ini'), `[internal]\nhosts[]=127.0.0.1:2526\n[redis]\nprefix=${PREFIX}\n`)
fs.writeFileSync(path.join(shared, 'accepted_domains'), 'example.com\n')
const saved = { dir: process.env.GATEWAY_CONFIG_DIR, url: process.env.REDIS_URL, prefix: process.env.GATEWAY_REDIS_PREFIX }

let h: Harness
let redis: Redis

beforeAll(() => {
  // read by gatewayConfig() when the plugin acquires the shared Redis client
  process.env.GATEWAY_CONFIG_DIR = shared
  process.env.REDIS_URL = inject('redisUrl')
  delete process.env.GATEWAY_REDIS_PREFIX
  redis = new Redis(inject('redisUrl'))
  h = pluginHarness(plugin, { instance: 'outbound' })
})

afterAll(async () => {
  await h.shutdown()
  redis.disconnect()
  for (const [key, value] of [['GATEWAY_CONFIG_DIR', saved.dir], ['REDIS_URL', saved.url], ['GATEWAY_REDIS_PREFIX', saved.prefix]] as const) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  fs.rmSync(shared, { recursive: true, force: true })
})

describe('gateway-stats', () => {
  it('registers its observers on both instances', () => {
    expect([...h.hooks].sort()).toEqual(['connect_init', 'deny', 'queue_ok', 'rcpt_ok'])
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
    })
    expect(await redis.exists(`${PREFIX}:stats:inbound:${since.toISOString().slice(0, 10)}`)).toBe(0)
  })
})
