// Unit tests for the /api/summary document built from synthetic bucket counters:
// the same numbers as the report, series per step, links and the empty state.
import { describe, expect, it } from 'vitest'

import type { LinkJson } from '../links/view'
import { buildReport, type Counters } from '../report/model'
import { chartSeries } from '../report/series'
import { bucketOf } from '../stats/buckets'
import { parseRange } from './range'
import { buildSummary, CHART_FIELDS } from './summary'

const NOW = Date.UTC(2026, 5, 15, 12, 30, 0)
const m = (minutesAgo: number) => bucketOf('m', NOW - minutesAgo * 60_000)
const range = parseRange('1h')!

function summaryOf(inbound: Map<string, Counters>, outbound: Map<string, Counters>, links: LinkJson[] = []) {
  const series = { inbound, outbound }
  const report = buildReport({ sinceMs: NOW - range.ms, untilMs: NOW, generatedMs: NOW, nodes: ['a'], granularity: 'm', series, days: { inbound: new Map(), outbound: new Map() }, dayList: [] })
  return { report, summary: buildSummary(range, report, chartSeries(series, 'm', range.step, CHART_FIELDS, NOW - range.ms, NOW), links) }
}

const link = (destination: string, waiting: number): LinkJson => ({
  instance: 'inbound',
  destination,
  state: 'ok',
  consecutiveFailures: 0,
  deliveryFailures: 0,
  probeFailures: 0,
  lastSuccess: null,
  lastFailure: null,
  lastBounce: null,
  lastProbe: null,
  waiting,
  oldestWaiting: null,
  tls: null,
  node: 'a',
  updatedAt: null,
})

describe('buildSummary', () => {
  const inbound = new Map<string, Counters>([
    [m(30), { connections: 3, messages_accepted: 2, bytes_accepted: 2048, messages_rejected: 1, sessions_rejected: 1, recipients_rejected: 2, 'check:sender-spoofing:reject': 1, 'roi:first:sender-spoofing': 1, 'roi:also:sender-blocklist': 1, deliveries: 2, 'spam_scl:7-9': 1 }],
    [m(5), { messages_accepted: 1, bytes_accepted: 100 }],
  ])
  const outbound = new Map<string, Counters>([[m(10), { messages_accepted: 4, bytes_accepted: 4000, deliveries: 3, deferrals: 1, 'check:auth:reject': 2 }]])
  const { report, summary } = summaryOf(inbound, outbound, [link('10.0.0.5:25', 2), link('10.0.0.6:25', 1)])

  it('carries the report numbers unchanged', () => {
    expect(summary.version).toBe(1)
    expect(summary.messages).toEqual(report.messages)
    expect(summary.messages).toEqual({ in: 3, out: 4, in_per_out: 0.75 })
    expect(summary.bytes).toEqual(report.bytes)
    expect(summary.auth).toEqual(report.auth)
    expect(summary.filters).toEqual(report.filters)
    expect(summary.reject_reasons).toEqual(report.reject_reasons)
    expect(summary.delivery).toEqual(report.delivery)
    expect(summary.traffic.inbound).toEqual({ connections: 3, sessions_refused: 1, messages: 3, bytes: 2148, messages_refused: 1, messages_tempfailed: 0, recipients_refused: 2 })
    expect(summary.range).toMatchObject({ name: '1h', step: 'minute', granularity: 'minute', until: new Date(NOW).toISOString() })
    expect(summary.empty).toBe(false)
  })

  it('series per minute add up to the totals', () => {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0)
    expect(summary.series.t).toHaveLength(61)
    expect(sum(summary.series.inbound_messages)).toBe(3)
    expect(sum(summary.series.outbound_messages)).toBe(4)
    expect(sum(summary.series.inbound_bytes)).toBe(2148)
    expect(sum(summary.series.outbound_bytes)).toBe(4000)
    expect(sum(summary.series.inbound_refused)).toBe(1)
  })

  it('links as `gateway links --json` has them, and the queue depth over all destinations', () => {
    expect(summary.links.map((l) => l.destination)).toEqual(['10.0.0.5:25', '10.0.0.6:25'])
    expect(summary.waiting).toBe(3)
  })

  it('no traffic: empty, zeros, no nulls in the series', () => {
    const { summary: none } = summaryOf(new Map(), new Map())
    expect(none.empty).toBe(true)
    expect(none.messages).toEqual({ in: 0, out: 0, in_per_out: null })
    expect(none.series.inbound_messages.every((v) => v === 0)).toBe(true)
    expect(none.links).toEqual([])
  })
})
