// The document GET /api/summary returns (schema version 1): the numbers of the
// report for the range (lib/report/model.ts, the same as `gateway report --json`
// for that --since), the chart series per step, and the link state of every
// destination, in one answer so the page needs one request per refresh. Pure.

import type { LinkJson } from '../links/view'
import type { Direction } from '../redis/keys'
import type { Counters, ReportV1 } from '../report/model'
import type { ChartSeries } from '../report/series'
import { STAT } from '../stats/fields'
import type { Range } from './range'

/** The counters charted over time, per instance. */
export const CHART_FIELDS: readonly string[] = [STAT.messagesAccepted, STAT.bytesAccepted, STAT.messagesRejected]

export interface TrafficJson {
  readonly connections: number
  readonly sessions_refused: number
  readonly messages: number
  readonly bytes: number
  readonly messages_refused: number
  readonly messages_tempfailed: number
  readonly recipients_refused: number
}

export interface SummaryV1 {
  readonly version: 1
  readonly range: { readonly name: Range['name']; readonly label: string; readonly since: string; readonly until: string; readonly granularity: ReportV1['range']['granularity']; readonly step: 'minute' | 'hour' | 'day' }
  readonly generated_at: string
  readonly nodes: readonly string[]
  /** Nothing counted in the range: the page shows "No traffic yet". */
  readonly empty: boolean
  readonly traffic: Record<Direction, TrafficJson>
  readonly messages: ReportV1['messages']
  readonly bytes: ReportV1['bytes']
  readonly peak: ReportV1['peak']
  readonly spam: ReportV1['spam']
  readonly viruses: number
  readonly reject_reasons: ReportV1['reject_reasons']
  readonly filters: ReportV1['filters']
  readonly unattributed: ReportV1['unattributed']
  readonly auth: ReportV1['auth']
  readonly delivery: ReportV1['delivery']
  readonly quarantine: ReportV1['quarantine']
  readonly series: {
    readonly t: number[]
    readonly inbound_messages: number[]
    readonly outbound_messages: number[]
    readonly inbound_bytes: number[]
    readonly outbound_bytes: number[]
    readonly inbound_refused: number[]
  }
  /** Messages waiting for delivery over all destinations (the queue depth link state knows). */
  readonly waiting: number
  readonly links: readonly LinkJson[]
}

const n = (c: Counters, field: string) => c[field] ?? 0
const STEP = { m: 'minute', h: 'hour', d: 'day' } as const

function traffic(c: Counters): TrafficJson {
  return {
    connections: n(c, STAT.connections),
    sessions_refused: n(c, STAT.sessionsRejected),
    messages: n(c, STAT.messagesAccepted),
    bytes: n(c, STAT.bytesAccepted),
    messages_refused: n(c, STAT.messagesRejected),
    messages_tempfailed: n(c, STAT.messagesTempfailed),
    recipients_refused: n(c, STAT.recipientsRejected),
  }
}

export function buildSummary(range: Range, report: ReportV1, chart: ChartSeries, links: readonly LinkJson[]): SummaryV1 {
  const counted = (c: Counters) => Object.values(c).some((v) => v !== 0)
  const column = (d: Direction, field: string) => chart.values[d][field] ?? chart.t.map(() => 0)
  return {
    version: 1,
    range: { name: range.name, label: range.label, since: report.range.since, until: report.range.until, granularity: report.range.granularity, step: STEP[range.step] },
    generated_at: report.generated_at,
    nodes: report.nodes,
    empty: !counted(report.totals.inbound) && !counted(report.totals.outbound),
    traffic: { inbound: traffic(report.totals.inbound), outbound: traffic(report.totals.outbound) },
    messages: report.messages,
    bytes: report.bytes,
    peak: report.peak,
    spam: report.spam,
    viruses: report.viruses,
    reject_reasons: report.reject_reasons,
    filters: report.filters,
    unattributed: report.unattributed,
    auth: report.auth,
    delivery: report.delivery,
    quarantine: report.quarantine,
    series: {
      t: chart.t,
      inbound_messages: column('inbound', STAT.messagesAccepted),
      outbound_messages: column('outbound', STAT.messagesAccepted),
      inbound_bytes: column('inbound', STAT.bytesAccepted),
      outbound_bytes: column('outbound', STAT.bytesAccepted),
      inbound_refused: column('inbound', STAT.messagesRejected),
    },
    waiting: links.reduce((s, l) => s + l.waiting, 0),
    links,
  }
}
