// The time ranges the dashboard offers, and how each is charted: the last hour
// per minute, the last day per hour, the last month per hour (a month per minute
// would be 43,200 points; per day too coarse to see a bad afternoon).

import type { Granularity } from '../stats/buckets'

export const RANGES = ['1h', '24h', '30d'] as const
export type RangeName = (typeof RANGES)[number]

export interface Range {
  readonly name: RangeName
  readonly ms: number
  /** The step of the charts. */
  readonly step: Granularity
  /** For people: "the last hour". */
  readonly label: string
}

const TABLE: Readonly<Record<RangeName, Range>> = {
  '1h': { name: '1h', ms: 3_600_000, step: 'm', label: 'the last hour' },
  '24h': { name: '24h', ms: 86_400_000, step: 'h', label: 'the last 24 hours' },
  '30d': { name: '30d', ms: 30 * 86_400_000, step: 'h', label: 'the last 30 days' },
}

/** The range a query parameter names; absent means 1h, anything else is undefined (a 400). */
export function parseRange(value: string | null): Range | undefined {
  if (value === null) return TABLE['1h']
  return (RANGES as readonly string[]).includes(value) ? TABLE[value as RangeName] : undefined
}
