// Reads one dashboard summary from Redis: the report's bucket counters for the
// range (summed over every node, pipelined HGETALLs, as `gateway report` reads
// them) and the link state of both instances.

import type Redis from 'ioredis'

import { readLinks } from '../links/read'
import { toJson } from '../links/view'
import type { RedisKeys } from '../redis/keys'
import { granularityFor, type BucketTtlSeconds } from '../report/granularity'
import { buildReport } from '../report/model'
import { readSeries, reportNodes } from '../report/read'
import { chartSeries } from '../report/series'
import { bucketsBetween, type Granularity } from '../stats/buckets'
import type { Range } from './range'
import { SettledBuckets } from './settled'
import { buildSummary, CHART_FIELDS, type SummaryV1 } from './summary'

const RANK: Readonly<Record<Granularity, number>> = { m: 0, h: 1, d: 2 }
const coarser = (a: Granularity, b: Granularity): Granularity => (RANK[a] >= RANK[b] ? a : b)

/** `settled`: buckets kept between calls (a server's own); without it every bucket is read. */
export async function readSummary(redis: Redis, keys: RedisKeys, ttls: BucketTtlSeconds, range: Range, now: number, settled = new SettledBuckets()): Promise<SummaryV1> {
  const sinceMs = now - range.ms
  const granularity = granularityFor(range.ms / 1000, ttls)
  const [nodes, links] = await Promise.all([reportNodes(redis, keys, undefined), readLinks(redis, keys, ['inbound', 'outbound'], now)])
  const series = await settled.series(nodes, granularity, bucketsBetween(granularity, sinceMs, now), now, (buckets) => readSeries(redis, keys, nodes, granularity, buckets))
  // no per-day table on the dashboard: the report's day list stays empty
  const report = buildReport({ sinceMs, untilMs: now, generatedMs: now, nodes, granularity, series, days: { inbound: new Map(), outbound: new Map() }, dayList: [] })
  // a step finer than the stored buckets (a short minute_ttl) falls back to the buckets' own
  const step = coarser(range.step, granularity)
  return buildSummary({ ...range, step }, report, chartSeries(series, granularity, step, CHART_FIELDS, sinceMs, now), toJson(links, now).links)
}
