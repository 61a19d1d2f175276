// The names of the traffic counters, shared by the stats plugin (writer) and the
// CLI (reader), so a renamed counter cannot silently vanish from reports.

import * as constants from 'haraka-constants'

export const STAT = Object.freeze({
  connections: 'connections',
  recipientsAccepted: 'recipients_accepted',
  recipientsRejected: 'recipients_rejected',
  recipientsTempfailed: 'recipients_tempfailed',
  messagesAccepted: 'messages_accepted',
  messagesRejected: 'messages_rejected',
  messagesTempfailed: 'messages_tempfailed',
  bytesAccepted: 'bytes_accepted',
  sessionsRejected: 'sessions_rejected',
  redisWriteFailures: 'redis_write_failures',
  /** Queue items handed to the next hop (one per destination domain and message). */
  deliveries: 'deliveries',
  /** Message bytes of those deliveries. */
  bytesDelivered: 'bytes_delivered',
  /** Failed delivery attempts that will be retried. */
  deferrals: 'deferrals',
  /** Queue items given up on (a DSN may follow). */
  bounces: 'bounces',
  /** Messages accepted into the quarantine (also counted in messages_accepted). */
  quarantined: 'quarantined',
  /** Messages released from the quarantine into the delivery queue. */
  released: 'released',
  /** Successful AUTH (password or pinned client certificate). */
  authSuccesses: 'auth_successes',
  /** Messages the virus scanner found infected. */
  viruses: 'viruses',
  /** Refused or quarantined messages no recorded check decided (see roi.ts). */
  roiUnattributed: 'roi_unattributed',
  /** Refreshes of the node list (<prefix>:nodes) dropped after a long Redis outage (queue-depth samples carry one too). */
  nodeListMissed: 'node_list_missed',
})

/**
 * Sampled values of the bucket hashes (lib/stats/queue-sample.ts): written with HSET
 * (the latest sample) or as a running maximum, never incremented, so never summed
 * over buckets. Over nodes, depths add up (each node samples its own queue) and
 * ages do not: the oldest message of several nodes is the oldest of any one.
 */
export const SAMPLE = Object.freeze({
  /** Items in the node's delivery queue at its latest sample in the bucket. */
  queueDepth: 'queue_depth',
  /** The largest queue_depth the node sampled in the bucket. */
  queueDepthMax: 'queue_depth_max',
  /** Seconds the oldest message of the node's queue had waited at the latest sample (0: empty). */
  queueOldestSeconds: 'queue_oldest_seconds',
  /** The largest queue_oldest_seconds the node sampled in the bucket. */
  queueOldestSecondsMax: 'queue_oldest_seconds_max',
})

const SAMPLED_FIELDS: ReadonlySet<string> = new Set(Object.values(SAMPLE))
const MAX_OVER_NODES: ReadonlySet<string> = new Set([SAMPLE.queueOldestSeconds, SAMPLE.queueOldestSecondsMax])

/** Whether `field` is a sample (not a counter): excluded from sums over buckets. */
export const isSampled = (field: string): boolean => SAMPLED_FIELDS.has(field)

/** Whether nodes combine `field` by their maximum (an age) rather than their sum. */
export const combinesByMax = (field: string): boolean => MAX_OVER_NODES.has(field)

/** Decision counters (lib/stats/decisions.ts) that mean AUTH outcomes. */
export const AUTH_FAILURES = 'check:auth:reject'
export const AUTH_LOCKOUTS = 'check:auth-lockout:tempfail'

/** Spam score bands counted per scanned message as "spam_scl:<band>". */
export const SCL_BANDS = ['0-1', '2-4', '5-6', '7-9'] as const
export type SclBand = (typeof SCL_BANDS)[number]

export function sclBandOf(scl: number): SclBand {
  return scl <= 1 ? '0-1' : scl <= 4 ? '2-4' : scl <= 6 ? '5-6' : '7-9'
}

export const sclBandField = (band: SclBand) => `spam_scl:${band}`

/** Filter ROI counters: which check decided a refused or quarantined message, and which would also have. */
export const roiField = (kind: 'first' | 'only' | 'also', check: string) => `roi:${kind}:${check}`

const MESSAGE_HOOKS: ReadonlySet<string> = new Set(['data', 'data_post', 'queue', 'queue_outbound', 'max_data_exceeded'])
const SESSION_HOOKS: ReadonlySet<string> = new Set(['connect', 'helo', 'ehlo', 'mail', 'unrecognized_command'])

/** Which counter a denial at `hook` with Haraka return code `code` increments, if any. */
export function statForDenial(hook: string, code: number): string | undefined {
  const permanent = code === constants.deny || code === constants.denydisconnect
  if (hook === 'rcpt' || hook === 'rcpt_ok') return permanent ? STAT.recipientsRejected : STAT.recipientsTempfailed
  if (MESSAGE_HOOKS.has(hook)) return permanent ? STAT.messagesRejected : STAT.messagesTempfailed
  if (SESSION_HOOKS.has(hook)) return STAT.sessionsRejected
  return undefined
}
