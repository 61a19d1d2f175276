// Unit tests for chart series: steps over the range, gaps as zeros, finer buckets added into coarser steps.
import { describe, expect, it } from 'vitest'

import { bucketOf } from '../stats/buckets'
import type { Counters } from './model'
import { chartSeries } from './series'

const NOW = Date.UTC(2026, 5, 15, 12, 30, 0)
const m = (minutesAgo: number) => bucketOf('m', NOW - minutesAgo * 60_000)

describe('chartSeries', () => {
  const inbound = new Map<string, Counters>([
    [m(50), { messages_accepted: 2, bytes_accepted: 200 }],
    [m(45), { messages_accepted: 3 }],
    [m(0), { messages_accepted: 1 }],
  ])
  const series = { inbound, outbound: new Map<string, Counters>([[m(10), { messages_accepted: 4 }]]) }

  it('one value per minute step, zeros where nothing was counted', () => {
    const c = chartSeries(series, 'm', 'm', ['messages_accepted', 'bytes_accepted'], NOW - 3_600_000, NOW)
    expect(c.t).toHaveLength(61)
    expect(c.t[0]).toBe((NOW - 3_600_000) / 1000)
    expect(c.values.inbound.messages_accepted![10]).toBe(2)
    expect(c.values.inbound.messages_accepted![60]).toBe(1)
    expect(c.values.inbound.bytes_accepted!.reduce((a, b) => a + b)).toBe(200)
    expect(c.values.outbound.messages_accepted!.reduce((a, b) => a + b)).toBe(4)
  })

  it('minute buckets added into hour steps; totals unchanged', () => {
    const c = chartSeries(series, 'm', 'h', ['messages_accepted'], NOW - 3_600_000, NOW)
    expect(c.t).toEqual([Date.UTC(2026, 5, 15, 11) / 1000, Date.UTC(2026, 5, 15, 12) / 1000])
    expect(c.values.inbound.messages_accepted).toEqual([5, 1])
  })

  it('refuses a step finer than the buckets', () => {
    expect(() => chartSeries(series, 'h', 'm', ['messages_accepted'], NOW - 3_600_000, NOW)).toThrow(/cannot chart/)
  })
})
