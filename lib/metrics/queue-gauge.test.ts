// Unit test of the delivery queue gauge: Haraka's "in progress/waiting/retrying"
// text becomes three series, read at scrape time; anything unexpected (another
// format, a throwing reader) means no series, never a failed scrape.

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'

import { deliveryQueueGauge, harakaQueueStats, parseQueueStats } from './queue-gauge'

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
