// Which Prometheus metric each traffic counter of the gateway becomes: the
// counter fields written to Redis (lib/stats/fields.ts STAT, "check:<check>:<action>",
// "roi:<kind>:<check>", "spam_scl:<band>", the "..._missed" fields) mapped to
// metric names with Prometheus units and suffixes, and labels whose values are
// bounded: fixed sets, or names that must match a strict pattern (anything else
// becomes "other"). Counter names are written by code, not by clients, but a
// check named after user input must never turn addresses or free text into label
// values, nor grow the label sets without bound (the cap lives in counters.ts).
// Pure: no prom-client, no state, and no imports: the field names are written
// out here (catalog.test.ts checks them against lib/stats/fields.ts and the
// tracking and links modules), so this stays free of the Redis code.

export type Labels = Readonly<Record<string, string>>

export interface MetricDef {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  /** Label sets exported at 0 from the start, so dashboards and rate() see the series before the first event. */
  readonly initial: readonly Labels[]
  /** Most distinct label sets; beyond, an event is counted under overflowLabels(). Fixed-set metrics need none. */
  readonly maxLabelSets?: number
}

/** Where one counter increment goes: a metric and its labels, or nowhere (and why). */
export type Mapping = { readonly metric: string; readonly labels: Labels } | { readonly dropped: DropReason }

export type DropReason = 'invalid_name' | 'invalid_increment'

/** The value a bounded label gets when its own value is not allowed or its metric is full. */
export const OTHER = 'other'

/** Check and action names: lower-case words with - and _, as the checks name themselves (no ":" or spaces, no "__proto__"). */
const NAME = /^[a-z][a-z0-9_-]{0,39}$/
/** What an unknown counter field may look like to be exported as an event name. */
const EVENT = /^[a-z0-9_:.-]{1,64}$/

const RESULTS = ['accepted', 'rejected', 'tempfailed'] as const
const ROI_KINDS = ['first', 'only', 'also'] as const
const MISSED_KINDS = ['tracking_records', 'tracking_events', 'links_updates', 'bucket_units', 'node_list'] as const
/** lib/stats/fields.ts SCL_BANDS */
export const SCL_BANDS = ['0-1', '2-4', '5-6', '7-9'] as const

const counter = (name: string, help: string, labelNames: readonly string[] = [], initial: readonly Labels[] = [{}], maxLabelSets?: number): MetricDef =>
  Object.freeze({ name, help, labelNames, initial, ...(maxLabelSets === undefined ? {} : { maxLabelSets }) })
const each = <K extends string>(label: K, values: readonly string[]): Labels[] => values.map((v) => ({ [label]: v }))

export const METRIC = Object.freeze({
  connections: 'gateway_connections_total',
  sessionsRejected: 'gateway_sessions_rejected_total',
  messages: 'gateway_messages_total',
  recipients: 'gateway_recipients_total',
  receivedBytes: 'gateway_received_bytes_total',
  deliveries: 'gateway_deliveries_total',
  deliveredBytes: 'gateway_delivered_bytes_total',
  deferrals: 'gateway_deferrals_total',
  bounces: 'gateway_bounces_total',
  quarantined: 'gateway_quarantined_total',
  released: 'gateway_released_total',
  authSuccesses: 'gateway_auth_successes_total',
  viruses: 'gateway_viruses_total',
  spamScl: 'gateway_spam_scl_messages_total',
  checkDecisions: 'gateway_check_decisions_total',
  filterRoi: 'gateway_filter_roi_total',
  filterRoiUnattributed: 'gateway_filter_roi_unattributed_total',
  redisWriteFailures: 'gateway_redis_write_failures_total',
  writesMissed: 'gateway_writes_missed_total',
  otherEvents: 'gateway_other_events_total',
  dropped: 'gateway_metrics_dropped_total',
})

export const METRICS: readonly MetricDef[] = Object.freeze([
  counter(METRIC.connections, 'SMTP connections opened.'),
  counter(METRIC.sessionsRejected, 'SMTP sessions refused at connect, HELO/EHLO, MAIL or an unknown command.'),
  counter(METRIC.messages, 'Messages by outcome: accepted (queued), rejected (5xx) or tempfailed (4xx) at or after DATA.', ['result'], each('result', RESULTS)),
  counter(METRIC.recipients, 'Recipients by outcome at RCPT: accepted, rejected (5xx) or tempfailed (4xx).', ['result'], each('result', RESULTS)),
  counter(METRIC.receivedBytes, 'Bytes of accepted messages.'),
  counter(METRIC.deliveries, 'Queue items handed to the next hop (one per destination domain and message).'),
  counter(METRIC.deliveredBytes, 'Message bytes of those deliveries.'),
  counter(METRIC.deferrals, 'Failed delivery attempts that will be retried.'),
  counter(METRIC.bounces, 'Queue items given up on (a DSN may follow).'),
  counter(METRIC.quarantined, 'Messages accepted into the quarantine (also counted as accepted).'),
  counter(METRIC.released, 'Messages released from the quarantine into the delivery queue.'),
  counter(METRIC.authSuccesses, 'Successful SMTP AUTH (password or pinned client certificate).'),
  counter(METRIC.viruses, 'Messages the virus scanner found infected.'),
  counter(METRIC.spamScl, 'Scanned messages by spam confidence level band.', ['band'], each('band', SCL_BANDS)),
  counter(METRIC.checkDecisions, 'Decisions of the protection checks (a check on trial decides "monitor").', ['check', 'action'], [], 200),
  counter(METRIC.filterRoi, 'Refused or quarantined messages by the check that decided (first), alone (only) or would also have (also).', ['kind', 'check'], [], 200),
  counter(METRIC.filterRoiUnattributed, 'Refused or quarantined messages no recorded check decided.'),
  counter(METRIC.redisWriteFailures, 'Failed writes of the counter and tracking batch to Redis (retried).'),
  counter(METRIC.writesMissed, 'Records, events, link updates, report buckets and node list refreshes dropped after a long Redis outage.', ['kind'], each('kind', MISSED_KINDS)),
  counter(METRIC.otherEvents, 'Counters of the gateway without a metric of their own, by counter name.', ['event'], [], 100),
  counter(METRIC.dropped, 'Counter increments not exported: a counter name outside the allowed pattern, or a negative or non-numeric increment.', ['reason'], each('reason', ['invalid_name', 'invalid_increment'])),
])

const fixed = (metric: string, labels: Labels = {}): Mapping => Object.freeze({ metric, labels: Object.freeze(labels) })

/** Counter fields with a metric of their own. A Map: a field named "__proto__" or "constructor" finds nothing. */
const FIXED: ReadonlyMap<string, Mapping> = new Map<string, Mapping>([
  ['connections', fixed(METRIC.connections)],
  ['sessions_rejected', fixed(METRIC.sessionsRejected)],
  ['messages_accepted', fixed(METRIC.messages, { result: 'accepted' })],
  ['messages_rejected', fixed(METRIC.messages, { result: 'rejected' })],
  ['messages_tempfailed', fixed(METRIC.messages, { result: 'tempfailed' })],
  ['recipients_accepted', fixed(METRIC.recipients, { result: 'accepted' })],
  ['recipients_rejected', fixed(METRIC.recipients, { result: 'rejected' })],
  ['recipients_tempfailed', fixed(METRIC.recipients, { result: 'tempfailed' })],
  ['bytes_accepted', fixed(METRIC.receivedBytes)],
  ['deliveries', fixed(METRIC.deliveries)],
  ['bytes_delivered', fixed(METRIC.deliveredBytes)],
  ['deferrals', fixed(METRIC.deferrals)],
  ['bounces', fixed(METRIC.bounces)],
  ['quarantined', fixed(METRIC.quarantined)],
  ['released', fixed(METRIC.released)],
  ['auth_successes', fixed(METRIC.authSuccesses)],
  ['viruses', fixed(METRIC.viruses)],
  ['roi_unattributed', fixed(METRIC.filterRoiUnattributed)],
  ['redis_write_failures', fixed(METRIC.redisWriteFailures)],
  ['tracking_records_missed', fixed(METRIC.writesMissed, { kind: 'tracking_records' })],
  ['tracking_events_missed', fixed(METRIC.writesMissed, { kind: 'tracking_events' })],
  ['links_updates_missed', fixed(METRIC.writesMissed, { kind: 'links_updates' })],
  ['bucket_units_missed', fixed(METRIC.writesMissed, { kind: 'bucket_units' })],
  ['node_list_missed', fixed(METRIC.writesMissed, { kind: 'node_list' })],
])

const bounded = (value: string | undefined, allowed: RegExp | readonly string[]): string => {
  if (value === undefined) return OTHER
  const ok = Array.isArray(allowed) ? allowed.includes(value) : (allowed as RegExp).test(value)
  return ok ? value : OTHER
}

/** "a:b:c" after a prefix, split in two parts; a third part makes the name ambiguous (then undefined). */
function twoParts(rest: string): [string, string] | undefined {
  const parts = rest.split(':')
  return parts.length === 2 ? [parts[0]!, parts[1]!] : undefined
}

/** The metric and labels of one counter increment. */
export function mapCount(field: string, by: number): Mapping {
  if (typeof by !== 'number' || !Number.isFinite(by) || by < 0) return { dropped: 'invalid_increment' }
  if (typeof field !== 'string') return { dropped: 'invalid_name' }
  const known = FIXED.get(field)
  if (known) return known
  if (field.startsWith('check:')) {
    const parts = twoParts(field.slice('check:'.length))
    return fixed(METRIC.checkDecisions, { check: bounded(parts?.[0], NAME), action: bounded(parts?.[1], NAME) })
  }
  if (field.startsWith('roi:')) {
    const parts = twoParts(field.slice('roi:'.length))
    return fixed(METRIC.filterRoi, { kind: bounded(parts?.[0], ROI_KINDS), check: bounded(parts?.[1], NAME) })
  }
  if (field.startsWith('spam_scl:')) return fixed(METRIC.spamScl, { band: bounded(field.slice('spam_scl:'.length), SCL_BANDS) })
  if (EVENT.test(field)) return fixed(METRIC.otherEvents, { event: field })
  return { dropped: 'invalid_name' }
}

/**
 * The labels an event is counted under once its metric holds maxLabelSets label
 * sets: every label "other", except a decision's action that is one of the
 * checks' usual actions (so "how many rejects" stays right).
 */
export function overflowLabels(def: MetricDef, labels: Labels): Labels {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const name of def.labelNames) {
    out[name] = name === 'action' && ACTIONS.has(labels[name] ?? '') ? labels[name]! : name === 'kind' ? bounded(labels[name], ROI_KINDS) : OTHER
  }
  return out
}

/** The actions of lib/policy: a fixed set, always kept as a label value. */
const ACTIONS: ReadonlySet<string> = new Set(['accept', 'reject', 'tempfail', 'quarantine', 'tag', 'monitor', 'discard'])
