// Time series for charts from the summed bucket counters a report reads: one
// value per step (minute, hour or day) of the range, gaps as 0, the counters of
// finer buckets added into the step that holds them. Pure: no Redis, no clock.

import type { Direction } from '../redis/keys'
import { BUCKET_MS, bucketOf, bucketStart, type Granularity } from '../stats/buckets'
import type { Counters } from './model'

export interface ChartSeries {
  /** Start of each step, seconds since the epoch (what chart libraries take). */
  readonly t: number[]
  /** Per counter field asked for, per instance: one value per step. */
  readonly values: Record<Direction, Record<string, number[]>>
}

const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound']
const RANK: Readonly<Record<Granularity, number>> = { m: 0, h: 1, d: 2 }

/**
 * `fields` of `series` (buckets of `granularity`) per step of `step` from the
 * step holding `sinceMs` to the one holding `untilMs`. A step finer than the
 * buckets is refused: the counters cannot be split.
 */
export function chartSeries(
  series: Record<Direction, ReadonlyMap<string, Counters>>,
  granularity: Granularity,
  step: Granularity,
  fields: readonly string[],
  sinceMs: number,
  untilMs: number,
): ChartSeries {
  if (RANK[step] < RANK[granularity]) throw new Error(`cannot chart ${granularity} buckets per ${step}`)
  const t: number[] = []
  const index = new Map<string, number>()
  for (let at = bucketStart(step, sinceMs); at <= untilMs; at += BUCKET_MS[step]) {
    index.set(bucketOf(step, at), t.length)
    t.push(at / 1000)
  }
  // bucket names are ISO prefixes: a coarser step's name is a prefix of a finer bucket's
  const stepLength = bucketOf(step, 0).length
  const values = {} as Record<Direction, Record<string, number[]>>
  for (const d of DIRECTIONS) {
    values[d] = Object.fromEntries(fields.map((f) => [f, new Array<number>(t.length).fill(0)]))
    for (const [bucket, counters] of series[d]) {
      const i = index.get(bucket.slice(0, stepLength))
      if (i === undefined) continue
      for (const f of fields) values[d][f]![i]! += counters[f] ?? 0
    }
  }
  return { t, values }
}
