// `gateway report`: capacity and filter ROI over a time range, from the per-node
// bucket counters (lib/stats/buckets.ts) of the Redis the running gateway uses:
// per-minute counters while the range lies within [stats] minute_ttl (peak per
// minute), per-hour within hour_ttl, else per-day; the per-day breakdown from the
// day counters. Summed over every node, or one (--node); the queue depth at the
// end of the range from each node's latest sample.

import { loadGatewayConfig } from '../lib/config/gateway'
import { parseReportArgs, REPORT_USAGE } from '../lib/report/args'
import { formatCsv, formatText } from '../lib/report/format'
import { buildReport } from '../lib/report/model'
import { newLatestSamples } from '../lib/report/queue'
import { readSeries, reportNodes } from '../lib/report/read'
import { bucketsBetween, type Granularity } from '../lib/stats/buckets'
import { withGatewayRedis } from './running-gateway'

export async function reportCommand(args: string[]): Promise<number> {
  const now = Date.now()
  const parsed = parseReportArgs(args, now)
  if ('problem' in parsed) {
    console.error(`gateway report: ${parsed.problem}\n${REPORT_USAGE}`)
    return 64
  }
  const { stats } = loadGatewayConfig().settings
  const age = (now - parsed.sinceMs) / 1000
  const granularity: Granularity = age <= stats.minute_ttl ? 'm' : age <= stats.hour_ttl ? 'h' : 'd'
  return withGatewayRedis('report counters', async (redis, keys) => {
    const nodes = await reportNodes(redis, keys, parsed.node)
    const dayList = bucketsBetween('d', parsed.sinceMs, parsed.untilMs)
    const latest = newLatestSamples() // queue depth at the end of the range: each node's latest sample
    const series = await readSeries(redis, keys, nodes, granularity, bucketsBetween(granularity, parsed.sinceMs, parsed.untilMs), latest)
    const days = granularity === 'd' ? series : await readSeries(redis, keys, nodes, 'd', dayList)
    const report = buildReport({ sinceMs: parsed.sinceMs, untilMs: parsed.untilMs, generatedMs: now, nodes, granularity, series, days, dayList, latest })
    process.stdout.write(parsed.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : parsed.format === 'csv' ? formatCsv(report) : formatText(report))
    return 0
  })
}
