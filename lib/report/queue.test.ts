// Unit tests of the queue figures of `gateway report`: samples are not counters.
// The depth at the end of the range is the sum of each node's latest sample, the
// maximum the largest bucket; neither is ever summed over buckets, in the totals,
// the per-day breakdown, the text or the CSV.

import { describe, expect, it } from 'vitest'

import { bucketOf } from '../stats/buckets'
import { formatCsv, formatText } from './format'
import { buildReport, sumCounters, type Counters, type ReportInput } from './model'
import { newLatestSamples, noteSample, queueFigures } from './queue'

const NOW = Date.UTC(2026, 5, 15, 12, 30, 0)
const m = (minutesAgo: number) => bucketOf('m', NOW - minutesAgo * 60_000)

describe('noteSample', () => {
  it("keeps each node's latest bucket holding a sample", () => {
    const latest = newLatestSamples()
    noteSample(latest, 'outbound', 'a', m(3), { queue_depth: '5', queue_depth_max: '5', deliveries: '2' })
    noteSample(latest, 'outbound', 'a', m(1), { queue_depth: '2', queue_depth_max: '2' })
    noteSample(latest, 'outbound', 'a', m(2), { queue_depth: '9', queue_depth_max: '9' }) // read out of order: older
    noteSample(latest, 'outbound', 'a', m(0), { deliveries: '1' }) // no sample in it
    noteSample(latest, 'outbound', 'b', m(4), { queue_depth: '7', queue_depth_max: '7' })
    noteSample(latest, 'outbound', 'c', m(2), { queue_depth: '0', queue_oldest_seconds: '0' })
    expect([...latest.outbound]).toEqual([['a', { bucket: m(1), depth: 2 }], ['b', { bucket: m(4), depth: 7 }], ['c', { bucket: m(2), depth: 0, oldest: 0 }]])
    expect(latest.inbound.size).toBe(0)
  })
})

describe('queueFigures', () => {
  const series = new Map<string, Counters>([
    [m(4), { queue_depth: 7, queue_depth_max: 7, deliveries: 3 }],
    [m(3), { queue_depth: 12, queue_depth_max: 12 }], // a and b sampled in the same minute: their sum
    [m(1), { queue_depth: 2, queue_depth_max: 2 }],
    [m(0), { deliveries: 1 }],
  ])

  it("depth: the nodes' latest samples added up; max: the largest bucket", () => {
    const latest = newLatestSamples()
    latest.outbound.set('a', { bucket: m(1), depth: 2 }).set('b', { bucket: m(3), depth: 7 })
    expect(queueFigures(series, latest.outbound)).toEqual({ depth: 9, depth_max: 12, oldest_seconds: null, oldest_seconds_max: null })
  })

  it('without per-node samples, the latest bucket holding one; without any sample, null', () => {
    expect(queueFigures(series, undefined)).toEqual({ depth: 2, depth_max: 12, oldest_seconds: null, oldest_seconds_max: null })
    expect(queueFigures(new Map([[m(0), { deliveries: 1 }]]), newLatestSamples().inbound)).toEqual({ depth: null, depth_max: null, oldest_seconds: null, oldest_seconds_max: null })
  })

  it("oldest: the largest of the nodes' latest ages (not their sum); its max: the largest bucket's", () => {
    // read.ts combines ages over nodes by their maximum: these buckets hold that already
    const aged = new Map<string, Counters>([
      [m(3), { queue_depth: 3, queue_depth_max: 3, queue_oldest_seconds: 900, queue_oldest_seconds_max: 900 }],
      [m(1), { queue_depth: 1, queue_depth_max: 1, queue_oldest_seconds: 30, queue_oldest_seconds_max: 1000 }],
    ])
    const latest = newLatestSamples()
    noteSample(latest, 'inbound', 'a', m(1), { queue_depth: '1', queue_oldest_seconds: '30' })
    noteSample(latest, 'inbound', 'b', m(3), { queue_depth: '2', queue_oldest_seconds: '600' })
    noteSample(latest, 'inbound', 'c', m(3), { queue_depth: '0' }) // written before ages were sampled
    expect(queueFigures(aged, latest.inbound)).toEqual({ depth: 3, depth_max: 3, oldest_seconds: 600, oldest_seconds_max: 1000 })
    expect(queueFigures(aged, undefined)).toEqual({ depth: 1, depth_max: 3, oldest_seconds: 30, oldest_seconds_max: 1000 })
  })
})

describe('samples in the report', () => {
  const inbound = new Map<string, Counters>([
    [m(20), { messages_accepted: 3, queue_depth: 4, queue_depth_max: 4 }],
    [m(10), { messages_accepted: 2, queue_depth: 6, queue_depth_max: 6, queue_oldest_seconds: 75, queue_oldest_seconds_max: 80 }],
  ])
  const outbound = new Map<string, Counters>([[m(10), { deliveries: 1, deferrals: 2 }]])
  const day = bucketOf('d', NOW)
  const latest = newLatestSamples()
  latest.inbound.set('a', { bucket: m(10), depth: 6, oldest: 75 })
  const input: ReportInput = {
    sinceMs: NOW - 3_600_000,
    untilMs: NOW,
    generatedMs: NOW,
    nodes: ['a'],
    granularity: 'm',
    series: { inbound, outbound },
    days: { inbound: new Map([[day, { messages_accepted: 5, queue_depth: 6, queue_depth_max: 9 }]]), outbound: new Map() },
    dayList: [day],
    latest,
  }
  const r = buildReport(input)

  it('are never summed into the counters', () => {
    expect(sumCounters(inbound.values())).toEqual({ messages_accepted: 5 })
    expect(r.totals.inbound).toEqual({ messages_accepted: 5 })
    expect(r.days).toEqual([{ day, inbound: { messages_accepted: 5 }, outbound: {} }])
  })

  it('are reported apart, per instance', () => {
    expect(r.queue).toEqual({
      inbound: { depth: 6, depth_max: 6, oldest_seconds: 75, oldest_seconds_max: 80 },
      outbound: { depth: null, depth_max: null, oldest_seconds: null, oldest_seconds_max: null },
    })
    expect(JSON.parse(JSON.stringify(r)).version).toBe(1)
  })

  it('show in the text and the CSV', () => {
    const text = formatText(r)
    expect(text).toMatch(/queue depth at end \(sampled\)\s+6\s+-\s+6\n/)
    expect(text).toMatch(/queue depth max \(sampled\)\s+6\s+-\s+-\n/)
    expect(text).toMatch(/oldest queued at end \(sampled\)\s+1m15s\s+-\s+1m15s\n/)
    expect(text).toMatch(/oldest queued max \(sampled\)\s+1m20s\s+-\s+1m20s\n/)
    const csv = formatCsv(r)
    expect(csv).toContain('\nqueue,inbound,depth,,6\nqueue,inbound,depth_max,,6\nqueue,inbound,oldest_seconds,,75\nqueue,inbound,oldest_seconds_max,,80\n')
    expect(csv).not.toMatch(/^(total|day),[^,]+,queue_depth/m)
  })
})
