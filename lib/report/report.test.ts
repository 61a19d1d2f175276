// Unit tests for `gateway report` without Redis: argument parsing against a given
// "now", the report computed from synthetic bucket counters, and its text and CSV forms.
import { describe, expect, it } from 'vitest'

import { bucketOf, bucketsBetween } from '../stats/buckets'
import { parseReportArgs } from './args'
import { formatCsv, formatText } from './format'
import { buildReport, type Counters, type ReportInput } from './model'

const NOW = Date.UTC(2026, 5, 15, 12, 30, 0)

describe('parseReportArgs', () => {
  it('defaults to the last 24 hours as text', () => {
    expect(parseReportArgs([], NOW)).toEqual({ sinceMs: NOW - 86_400_000, untilMs: NOW, node: undefined, format: 'text' })
  })

  it('takes relative times, ISO dates, a node and one output format', () => {
    expect(parseReportArgs(['--since', '7d', '--until', '1h', '--node', 'gw-2', '--json'], NOW)).toEqual({
      sinceMs: NOW - 7 * 86_400_000,
      untilMs: NOW - 3_600_000,
      node: 'gw-2',
      format: 'json',
    })
    expect(parseReportArgs(['--since', '2026-06-01', '--csv'], NOW)).toMatchObject({ sinceMs: Date.parse('2026-06-01'), format: 'csv' })
  })

  it.each([
    [['--since', 'yesterday'], /--since "yesterday"/],
    [['--since', '1h', '--until', '2h'], /before --since/],
    [['--json', '--csv'], /one of/],
    [['--node'], /needs a value/],
    [['--node', 'a b'], /not a node name/],
    [['--verbose'], /unknown argument/],
  ])('refuses %j', (args, problem) => {
    const r = parseReportArgs(args, NOW)
    expect('problem' in r && r.problem).toMatch(problem)
  })
})

/** Synthetic counters: bucket -> counters, as read.ts sums them over nodes. */
function input(): ReportInput {
  const m = (minutesAgo: number) => bucketOf('m', NOW - minutesAgo * 60_000)
  const inbound = new Map<string, Counters>([
    [m(50), { connections: 10, messages_accepted: 6, bytes_accepted: 6000, messages_rejected: 2, 'check:sender-spoofing:reject': 2, 'roi:first:sender-spoofing': 2, 'roi:only:sender-spoofing': 1, 'roi:also:sender-blocklist': 1, 'spam_scl:0-1': 4, 'spam_scl:7-9': 1, quarantined: 1, 'roi:first:spam': 1, 'roi:only:spam': 1 }],
    [m(10), { connections: 4, messages_accepted: 9, bytes_accepted: 9000, recipients_rejected: 3, 'check:recipient:reject': 3, deliveries: 14, bytes_delivered: 15000, 'spam_scl:5-6': 1, 'check:sender-blocklist:monitor': 2 }],
  ])
  const outbound = new Map<string, Counters>([[m(20), { connections: 2, messages_accepted: 5, bytes_accepted: 3000, deliveries: 5, deferrals: 2, bounces: 1, auth_successes: 2, 'check:auth:reject': 3, 'check:auth-lockout:tempfail': 1 }]])
  const dayList = bucketsBetween('d', NOW - 3_600_000, NOW)
  const day = (series: Map<string, Counters>) => {
    const sum: Counters = {}
    for (const c of series.values()) for (const [k, v] of Object.entries(c)) sum[k] = (sum[k] ?? 0) + v
    return new Map([[dayList[0]!, sum]])
  }
  return { sinceMs: NOW - 3_600_000, untilMs: NOW, generatedMs: NOW, nodes: ['a', 'b'], granularity: 'm', series: { inbound, outbound }, days: { inbound: day(inbound), outbound: day(outbound) }, dayList }
}

describe('buildReport', () => {
  const r = buildReport(input())

  it('sums in vs out, with ratios and the peak bucket', () => {
    expect(r.version).toBe(1)
    expect(r.range).toEqual({ since: '2026-06-15T11:30:00.000Z', until: '2026-06-15T12:30:00.000Z', granularity: 'minute' })
    expect(r.messages).toEqual({ in: 15, out: 5, in_per_out: 3 })
    expect(r.bytes).toEqual({ in: 15000, out: 3000, in_per_out: 5 })
    expect(r.peak).toEqual({ per: 'minute', inbound: { messages: 9, at: '2026-06-15T12:20' }, outbound: { messages: 5, at: '2026-06-15T12:10' } })
  })

  it('spam share, AUTH, delivery, quarantine', () => {
    expect(r.spam).toEqual({ scanned: 6, spam: 2, share: 2 / 6, bands: { '0-1': 4, '2-4': 0, '5-6': 1, '7-9': 1 } })
    expect(r.auth).toEqual({ successes: 2, failures: 3, lockouts: 1 })
    expect(r.delivery).toEqual({ inbound: { deliveries: 14, bytes: 15000, deferrals: 0, bounces: 0 }, outbound: { deliveries: 5, bytes: 0, deferrals: 2, bounces: 1 } })
    expect(r.quarantine).toEqual({ quarantined: 1, released: 0 })
  })

  it('reject reasons (reject and tempfail decisions, largest first) and per-filter catches', () => {
    expect(r.reject_reasons).toEqual([
      { instance: 'inbound', check: 'recipient', action: 'reject', count: 3 },
      { instance: 'outbound', check: 'auth', action: 'reject', count: 3 },
      { instance: 'inbound', check: 'sender-spoofing', action: 'reject', count: 2 },
      { instance: 'outbound', check: 'auth-lockout', action: 'tempfail', count: 1 },
    ])
    expect(r.filters).toEqual([
      { instance: 'inbound', check: 'sender-spoofing', first: 2, only: 1, also: 0 },
      { instance: 'inbound', check: 'spam', first: 1, only: 1, also: 0 },
      { instance: 'inbound', check: 'sender-blocklist', first: 0, only: 0, also: 1 },
    ])
  })

  it('per-day rows from the day buckets', () => {
    expect(r.days).toHaveLength(1)
    expect(r.days[0]!.inbound.messages_accepted).toBe(15)
    expect(r.days[0]!.outbound.deliveries).toBe(5)
  })

  it('no traffic: zeros and nulls, no division by zero', () => {
    const empty = buildReport({ ...input(), series: { inbound: new Map(), outbound: new Map() } })
    expect(empty.messages).toEqual({ in: 0, out: 0, in_per_out: null })
    expect(empty.spam.share).toBeNull()
    expect(empty.peak.inbound).toEqual({ messages: 0, at: null })
    expect(formatText(empty)).toContain('none')
  })
})

describe('formatText / formatCsv', () => {
  const r = buildReport(input())

  it('prints aligned tables with totals and percentages', () => {
    const text = formatText(r)
    expect(text).toMatch(/^Gateway report 2026-06-15T11:30:00.000Z \.\. 2026-06-15T12:30:00.000Z \(per-minute counters; nodes: a, b\)/)
    const accepted = text.split('\n').find((l) => l.includes('messages accepted'))!
    const connections = text.split('\n').find((l) => l.includes('connections'))!
    expect(accepted).toMatch(/messages accepted\s+15\s+5\s+20$/)
    expect(accepted.length).toBe(connections.length) // right-aligned columns
    expect(text).toMatch(/in \/ out: messages 15 \/ 5 = 3\.00/)
    expect(text).toMatch(/spam share: 33\.3% of 6 scanned/)
    expect(text).toMatch(/inbound\s+sender-blocklist\s+0\s+0\s+1\s+0\.0%\s+never alone/)
    expect(text).toMatch(/inbound\s+sender-spoofing\s+2\s+1\s+0\s+66\.7%/)
    expect(text).toMatch(/successes 2, failures 3, lockouts 1/)
    expect(text).toMatch(/total\s+15\s+2\s+3\s+5\s+19\s+2\s+1/)
  })

  it('CSV: one value per line', () => {
    const lines = formatCsv(r).trim().split('\n')
    expect(lines[0]).toBe('section,instance,name,bucket,value')
    expect(lines).toContain('total,inbound,messages_accepted,,15')
    expect(lines).toContain('peak,inbound,messages_per_minute,2026-06-15T12:20,9')
    expect(lines).toContain('filter,inbound,sender-spoofing:only,,1')
    expect(lines).toContain(`day,outbound,deliveries,${r.days[0]!.day},5`)
  })
})
