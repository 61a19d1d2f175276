// The report `gateway report` prints, computed from summed bucket counters (pure:
// no Redis, no clock), and its JSON form: schema version 1, documented in the
// README. Fields are only ever added to version 1; a change of meaning makes a
// version 2.

import type { Direction } from '../redis/keys'
import type { Granularity } from '../stats/buckets'
import { AUTH_FAILURES, AUTH_LOCKOUTS, isSampled, SCL_BANDS, sclBandField, STAT, type SclBand } from '../stats/fields'
import { queueFigures, type LatestSamples, type QueueFigures } from './queue'

export type Counters = Record<string, number>
export type Per = 'minute' | 'hour' | 'day'

export const PER: Readonly<Record<Granularity, Per>> = Object.freeze({ m: 'minute', h: 'hour', d: 'day' })

export interface ReportInput {
  readonly sinceMs: number
  readonly untilMs: number
  readonly generatedMs: number
  readonly nodes: readonly string[]
  /** The buckets totals and peaks come from. */
  readonly granularity: Granularity
  readonly series: Record<Direction, ReadonlyMap<string, Counters>>
  /** Day buckets (whole UTC days touching the range) for the per-day breakdown. */
  readonly days: Record<Direction, ReadonlyMap<string, Counters>>
  readonly dayList: readonly string[]
  /** Each node's latest queue sample in the range (read.ts); without it, the latest bucket's. */
  readonly latest?: LatestSamples
}

export interface Ratio {
  readonly in: number
  readonly out: number
  /** in / out; null when out is 0. */
  readonly in_per_out: number | null
}

export interface FilterRow {
  readonly instance: Direction
  readonly check: string
  /** Refused or quarantined messages this check decided. */
  readonly first: number
  /** ... of which no other check that ran would have caught. */
  readonly only: number
  /** Messages another check decided that this one would also have caught. */
  readonly also: number
}

export interface ReportV1 {
  readonly version: 1
  readonly generated_at: string
  readonly range: { readonly since: string; readonly until: string; readonly granularity: Per }
  readonly nodes: readonly string[]
  readonly messages: Ratio
  readonly bytes: Ratio
  readonly peak: { readonly per: Per } & Record<Direction, { readonly messages: number; readonly at: string | null }>
  readonly spam: { readonly scanned: number; readonly spam: number; readonly share: number | null; readonly bands: Record<SclBand, number> }
  readonly viruses: number
  readonly reject_reasons: readonly { readonly instance: Direction; readonly check: string; readonly action: string; readonly count: number }[]
  readonly filters: readonly FilterRow[]
  readonly unattributed: Record<Direction, number>
  readonly auth: { readonly successes: number; readonly failures: number; readonly lockouts: number }
  readonly delivery: Record<Direction, { readonly deliveries: number; readonly bytes: number; readonly deferrals: number; readonly bounces: number }>
  readonly quarantine: { readonly quarantined: number; readonly released: number }
  /** Delivery-queue samples (not counters): depth at the end of the range and the largest seen. */
  readonly queue: Record<Direction, QueueFigures>
  readonly totals: Record<Direction, Counters>
  readonly days: readonly ({ readonly day: string } & Record<Direction, Counters>)[]
}

const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound']
const TOP_REASONS = 10

/** Counters of every bucket added up; sampled fields (queue depth) are not counters and are left out. */
export function sumCounters(buckets: Iterable<Counters>): Counters {
  const sum: Counters = {}
  for (const c of buckets) for (const [k, v] of Object.entries(c)) if (!isSampled(k)) sum[k] = (sum[k] ?? 0) + v
  return sum
}

/** A bucket's counters without its samples (the per-day breakdown holds counters only). */
const countersOnly = (c: Counters | undefined): Counters => sumCounters(c ? [c] : [])

const n = (c: Counters, field: string) => c[field] ?? 0
const ratio = (a: number, b: number): Ratio => ({ in: a, out: b, in_per_out: b === 0 ? null : a / b })

export function buildReport(input: ReportInput): ReportV1 {
  const totals = { inbound: sumCounters(input.series.inbound.values()), outbound: sumCounters(input.series.outbound.values()) }
  const both = sumCounters([totals.inbound, totals.outbound])
  const bands = Object.fromEntries(SCL_BANDS.map((b) => [b, n(both, sclBandField(b))])) as Record<SclBand, number>
  const scanned = SCL_BANDS.reduce((s, b) => s + bands[b], 0)
  const spam = bands['5-6'] + bands['7-9']
  return {
    version: 1,
    generated_at: new Date(input.generatedMs).toISOString(),
    range: { since: new Date(input.sinceMs).toISOString(), until: new Date(input.untilMs).toISOString(), granularity: PER[input.granularity] },
    nodes: [...input.nodes],
    messages: ratio(n(totals.inbound, STAT.messagesAccepted), n(totals.outbound, STAT.messagesAccepted)),
    bytes: ratio(n(totals.inbound, STAT.bytesAccepted), n(totals.outbound, STAT.bytesAccepted)),
    peak: { per: PER[input.granularity], inbound: peakOf(input.series.inbound), outbound: peakOf(input.series.outbound) },
    spam: { scanned, spam, share: scanned === 0 ? null : spam / scanned, bands },
    viruses: n(both, STAT.viruses),
    reject_reasons: rejectReasons(totals),
    filters: filterRows(totals),
    unattributed: { inbound: n(totals.inbound, STAT.roiUnattributed), outbound: n(totals.outbound, STAT.roiUnattributed) },
    auth: { successes: n(both, STAT.authSuccesses), failures: n(both, AUTH_FAILURES), lockouts: n(both, AUTH_LOCKOUTS) },
    delivery: {
      inbound: deliveryOf(totals.inbound),
      outbound: deliveryOf(totals.outbound),
    },
    quarantine: { quarantined: n(both, STAT.quarantined), released: n(both, STAT.released) },
    queue: { inbound: queueFigures(input.series.inbound, input.latest?.inbound), outbound: queueFigures(input.series.outbound, input.latest?.outbound) },
    totals,
    days: input.dayList.map((day) => ({ day, inbound: countersOnly(input.days.inbound.get(day)), outbound: countersOnly(input.days.outbound.get(day)) })),
  }
}

/** The busiest bucket by messages accepted (the earliest on a tie). */
function peakOf(series: ReadonlyMap<string, Counters>): { messages: number; at: string | null } {
  let best = { messages: 0, at: null as string | null }
  for (const [bucket, c] of [...series].sort(([a], [b]) => a.localeCompare(b))) {
    const m = n(c, STAT.messagesAccepted)
    if (m > best.messages) best = { messages: m, at: bucket }
  }
  return best
}

function rejectReasons(totals: Record<Direction, Counters>): ReportV1['reject_reasons'] {
  const rows: { instance: Direction; check: string; action: string; count: number }[] = []
  for (const instance of DIRECTIONS) {
    for (const [field, count] of Object.entries(totals[instance])) {
      const m = /^check:(.+):(reject|tempfail)$/.exec(field)
      if (m && count > 0) rows.push({ instance, check: m[1]!, action: m[2]!, count })
    }
  }
  return rows.sort((a, b) => b.count - a.count || a.instance.localeCompare(b.instance) || a.check.localeCompare(b.check) || a.action.localeCompare(b.action)).slice(0, TOP_REASONS)
}

function filterRows(totals: Record<Direction, Counters>): FilterRow[] {
  const rows: FilterRow[] = []
  for (const instance of DIRECTIONS) {
    const c = totals[instance]
    const checks = new Set<string>()
    for (const field of Object.keys(c)) {
      const m = /^roi:(?:first|only|also):(.+)$/.exec(field)
      if (m) checks.add(m[1]!)
    }
    for (const check of checks) rows.push({ instance, check, first: n(c, `roi:first:${check}`), only: n(c, `roi:only:${check}`), also: n(c, `roi:also:${check}`) })
  }
  return rows.sort((a, b) => b.first - a.first || b.also - a.also || a.instance.localeCompare(b.instance) || a.check.localeCompare(b.check))
}

function deliveryOf(c: Counters) {
  return { deliveries: n(c, STAT.deliveries), bytes: n(c, STAT.bytesDelivered), deferrals: n(c, STAT.deferrals), bounces: n(c, STAT.bounces) }
}
