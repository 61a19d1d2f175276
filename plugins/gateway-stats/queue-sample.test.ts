// Unit test of gateway-stats' queue-depth samples through the real adapter and the
// suite's redis-server: at setup the plugin samples the instance's queue (the files
// of its queue folder, which all cluster workers share, not Haraka's per-process
// get_stats) into this node's minute, hour and day buckets; without a queue folder
// Haraka's count stands in; a Haraka without get_stats gets a warning and no
// samples, never a failure.

import fs from 'node:fs'
import path from 'node:path'

import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'

import { pluginHarness, type Harness } from '../../lib/plugin/testing'
import { bucketsBetween } from '../../lib/stats/buckets'
import { sharedConfigForFile } from '../../test/helpers/shared-config'
import plugin from './plugin'

const PREFIX = `qsampleplugin${process.pid}x${Math.floor(Math.random() * 1e9)}`
const shared = sharedConfigForFile(`[internal]\nhosts[]=127.0.0.1:2526\n[redis]\nprefix=${PREFIX}\n[node]\nname=q-node\n[stats]\nminute_ttl=2h\nhour_ttl=3d\nday_ttl=10d\n`)

let redis: Redis

beforeAll(() => {
  redis = new Redis(inject('redisUrl'))
})

afterAll(() => {
  redis.disconnect()
})

/**
 * The key of the node's bucket (granularity g) that got a queue sample, waiting for it.
 * Every bucket from `from` to now is looked at: the clock may cross a minute boundary
 * between the test's start and the sample.
 */
async function sampledBucket(instance: string, g: 'm' | 'h' | 'd', from: number): Promise<string> {
  let found = ''
  await vi.waitFor(
    async () => {
      for (const b of bucketsBetween(g, from, Date.now())) {
        const key = `${PREFIX}:c:${g}:${instance}:q-node:${b}`
        if ((await redis.hget(key, 'queue_depth')) !== null) return void (found = key)
      }
      throw new Error(`no ${g} bucket with a queue sample`)
    },
    { timeout: 15_000, interval: 100 },
  )
  return found
}

describe('gateway-stats queue samples', () => {
  it("writes the instance's queue depth (its queue files) and its oldest message's age into the node's buckets at start", async () => {
    const queue = fs.mkdtempSync(path.join(shared, 'queue-'))
    const now = Date.now()
    // a message that arrived 1,000 s ago, as Haraka names queue files
    fs.writeFileSync(path.join(queue, `${now - 1_000_000}_${now + 60_000}_2_77_AbC_1_mx.example`), '')
    // this process's own count differs (with smtp.ini nodes=N it is one worker's): not used
    const h: Harness = pluginHarness(plugin, { instance: 'inbound', haraka: { './outbound/queue': { get_stats: () => '1/2/4', queue_dir: queue } } })
    try {
      for (const g of ['m', 'h', 'd'] as const) {
        const hash = await redis.hgetall(await sampledBucket('inbound', g, now))
        expect(hash).toMatchObject({ queue_depth: '1', queue_depth_max: '1' })
        // the sample's second is not known here: about 1,000 s, latest = max (one sample)
        expect(Number(hash.queue_oldest_seconds)).toBeGreaterThanOrEqual(1000)
        expect(Number(hash.queue_oldest_seconds)).toBeLessThan(1100)
        expect(hash.queue_oldest_seconds_max).toBe(hash.queue_oldest_seconds)
      }
      expect(await redis.ttl(await sampledBucket('inbound', 'm', now))).toBeGreaterThan(7000)
      expect(await redis.smembers(`${PREFIX}:nodes`)).toEqual(['q-node'])
    } finally {
      await h.shutdown()
    }
  })

  it('without get_stats: a warning, no samples', async () => {
    const h = pluginHarness(plugin, { instance: 'outbound', haraka: { './outbound/queue': {} } })
    await h.shutdown()
    expect(h.log.join('\n')).toMatch(/delivery queue size not readable \(outbound\/queue get_stats\): no queue_depth samples/)
  })

  it('without a queue folder: the depth alone, and a warning', async () => {
    const before = Date.now()
    const h = pluginHarness(plugin, { instance: 'outbound', haraka: { './outbound/queue': { get_stats: () => '0/0/3' } } })
    try {
      const key = await sampledBucket('outbound', 'm', before)
      expect(await redis.hget(key, 'queue_depth')).toBe('3')
      expect(await redis.hget(key, 'queue_oldest_seconds')).toBeNull()
    } finally {
      await h.shutdown()
    }
    expect(h.log.join('\n')).toMatch(/delivery queue folder unknown .*: no queue_oldest_seconds samples/)
  })
})
