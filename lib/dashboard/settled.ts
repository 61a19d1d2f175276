// Bucket counters that no longer change, kept between dashboard refreshes: a
// month of hours is ~3,000 HGETALLs per read, yet only the last bucket or two
// still grow. A bucket counts as settled once it ended SETTLE_MS ago; settled
// ones are kept up to MAX_AGE_MS, after which they are read again (counters held
// back by a Redis outage are written late, into the bucket of when they were
// counted). A change in the node list starts over.

import type { Counters } from '../report/model'
import type { Series } from '../report/read'
import { BUCKET_MS, type Granularity } from '../stats/buckets'

export const SETTLE_MS = 120_000
export const MAX_AGE_MS = 300_000

/** The end of a bucket named as bucketOf() names it ("YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH", "YYYY-MM-DD"), UTC. */
export function bucketEnd(granularity: Granularity, bucket: string): number {
  const start = Date.parse(granularity === 'm' ? `${bucket}:00Z` : granularity === 'h' ? `${bucket}:00:00Z` : `${bucket}T00:00:00Z`)
  return start + BUCKET_MS[granularity]
}

interface Entry {
  readonly at: number
  readonly inbound: Counters | undefined
  readonly outbound: Counters | undefined
}

export class SettledBuckets {
  private nodes = ''
  private readonly entries = new Map<string, Entry>()

  /**
   * The series of `buckets`: settled ones from memory when fresh enough, the
   * rest through `read` (one call, for just those buckets).
   */
  async series(nodes: readonly string[], granularity: Granularity, buckets: readonly string[], now: number, read: (buckets: string[]) => Promise<Series>): Promise<Series> {
    const nodeList = nodes.join('\n')
    if (nodeList !== this.nodes) {
      this.entries.clear()
      this.nodes = nodeList
    }
    for (const [key, e] of this.entries) if (now - e.at > MAX_AGE_MS) this.entries.delete(key)
    const kept = (b: string) => this.entries.get(`${granularity}${b}`)
    const missing = buckets.filter((b) => !kept(b))
    const fresh = missing.length > 0 ? await read(missing) : { inbound: new Map(), outbound: new Map() }
    const series: Series = { inbound: new Map(), outbound: new Map() }
    for (const b of buckets) {
      const e = kept(b)
      const inbound = e ? e.inbound : fresh.inbound.get(b)
      const outbound = e ? e.outbound : fresh.outbound.get(b)
      if (inbound) series.inbound.set(b, inbound)
      if (outbound) series.outbound.set(b, outbound)
      if (!e && bucketEnd(granularity, b) + SETTLE_MS <= now) this.entries.set(`${granularity}${b}`, { at: now, inbound, outbound })
    }
    return series
  }
}
