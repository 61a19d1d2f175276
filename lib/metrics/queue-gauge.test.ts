// Unit test of the delivery queue gauge: Haraka's "in progress/waiting/retrying"
// text becomes three series, read at scrape time; anything unexpected (another
// format, a throwing reader) means no series, never a failed scrape.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'

import { deliveryQueueGauge, harakaQueueStats, oldestQueuedGauge, parseQueueStats } from './queue-gauge'

describe('delivery queue gauge', () => {
  it('parses Haraka get_stats()', () => {
    expect(parseQueueStats('1/20/3')).toEqual({ delivering: 1, waiting: 20, retrying: 3 })
    for (const bad of ['1/2', '1/2/x', '', undefined, 3, '-1/2/3']) expect(parseQueueStats(bad)).toBeUndefined()
  })

  it('is read at every scrape; a broken reader gives no series', async () => {
    let text: unknown = '0/2/1'
    const r = new Registry()
    deliveryQueueGauge(r, () => {
      if (text instanceof Error) throw text
      return text
    })
    expect(await r.metrics()).toMatch(/gateway_delivery_queue_items\{state="waiting"\} 2\n/)
    text = '1/0/0'
    expect(await r.metrics()).toMatch(/gateway_delivery_queue_items\{state="delivering"\} 1\ngateway_delivery_queue_items\{state="waiting"\} 0\n/)
    text = new Error('gone')
    expect(await r.metrics()).not.toMatch(/gateway_delivery_queue_items\{/)
    text = 'changed format'
    expect(await r.metrics()).not.toMatch(/gateway_delivery_queue_items\{/)
  })

  it("the oldest message's age is read from the folder at every scrape; an unreadable folder gives NaN", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oldest-gauge-'))
    try {
      const r = new Registry()
      oldestQueuedGauge(r, dir)
      expect(await r.metrics()).toMatch(/\ngateway_delivery_queue_oldest_seconds 0\n/)
      const now = Date.now()
      fs.writeFileSync(path.join(dir, `${now - 3_600_000}_${now}_5_1_AbC_1_mx.example`), '')
      const age = Number(/\ngateway_delivery_queue_oldest_seconds (\d+)\n/.exec(await r.metrics())?.[1])
      expect(age).toBeGreaterThanOrEqual(3600)
      expect(age).toBeLessThan(3700)
      // root reads any folder: replace it with a file to make the readdir fail for everyone
      fs.rmSync(dir, { recursive: true })
      fs.writeFileSync(dir, '')
      expect(await r.metrics()).toMatch(/\ngateway_delivery_queue_oldest_seconds Nan\n/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('finds get_stats through haraka_require, or nothing', () => {
    expect(harakaQueueStats({ haraka_require: () => ({ get_stats: () => '0/0/0' }) })?.()).toBe('0/0/0')
    expect(harakaQueueStats({ haraka_require: () => ({}) })).toBeUndefined()
    expect(
      harakaQueueStats({
        haraka_require: () => {
          throw new Error('no such module')
        },
      }),
    ).toBeUndefined()
  })
})
