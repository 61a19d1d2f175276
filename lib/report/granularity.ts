// Which bucket counters a range is read from: per-minute while the range lies
// within [stats] minute_ttl, per-hour within hour_ttl, else per-day (as `gateway
// report` chooses), so every reader of a range gets the same totals.

import type { Granularity } from '../stats/buckets'

export interface BucketTtlSeconds {
  readonly minute_ttl: number
  readonly hour_ttl: number
}

/** The finest granularity still kept for a range starting `ageSeconds` ago. */
export function granularityFor(ageSeconds: number, ttls: BucketTtlSeconds): Granularity {
  return ageSeconds <= ttls.minute_ttl ? 'm' : ageSeconds <= ttls.hour_ttl ? 'h' : 'd'
}
