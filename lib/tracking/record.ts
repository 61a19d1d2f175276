// The per-message tracking record: one versioned JSON document per transaction
// and instance (record id = the transaction uuid), written once when the message
// is accepted, quarantined or refused. This file is its schema, its writer's
// serialisation and its reader's validation: a document from Redis is never
// trusted as is (another gateway version, a truncated write or a hand edit would
// otherwise show up as a wrong timeline instead of a clear "corrupt" line).

export const RECORD_VERSION = 1

export const STATUSES = ['accepted', 'quarantined', 'rejected'] as const
export type RecordStatus = (typeof STATUSES)[number]
export type TrackInstance = 'inbound' | 'outbound'

export interface CheckDecision {
  readonly check: string
  readonly result: string
  readonly action: string
}

export interface TrackRecord {
  /** Schema version (RECORD_VERSION). */
  readonly v: number
  /** The transaction uuid (connection uuid for a refusal before MAIL). */
  readonly id: string
  readonly node: string
  readonly instance: TrackInstance
  /** When the message was accepted or refused, ms since the epoch. */
  readonly time: number
  readonly status: RecordStatus
  readonly client: { readonly ip: string; readonly rdns: string | null; readonly helo: string | null }
  /** TLS of the client's session, if it used STARTTLS. */
  readonly tls: { readonly protocol: string; readonly cipher: string } | null
  /** The authenticated user (outbound AUTH) or "peer:<name>" for a pinned client certificate. */
  readonly auth: string | null
  /** Envelope sender ("" for the null sender), null before MAIL. */
  readonly from: string | null
  readonly to: readonly string[]
  readonly messageId: string | null
  readonly size: number | null
  /** Inbound: what sender authentication found (SPF, each DKIM signature, DMARC), as "result (domain)"; null on outbound. */
  readonly senderAuth: { readonly spf: string | null; readonly dkim: readonly string[]; readonly dmarc: string | null } | null
  /** Every check's decision (decisionsOf). */
  readonly checks: readonly CheckDecision[]
  /** What was done: deliver, quarantine, reject or tempfail. */
  readonly action: string
  /** Haraka's transaction queue id (the queue files are "<queueId>.<n>"). */
  readonly queueId: string | null
  readonly quarantineId: string | null
  /** The refusal's reply (rejected records). */
  readonly reply: string | null
  /** Outbound: the inbound record this message came from (verified X-Gateway-Org history). */
  readonly inboundRecordId: string | null
}

export type RecordReading =
  | { readonly kind: 'ok'; readonly record: TrackRecord }
  | { readonly kind: 'missing'; readonly id: string }
  | { readonly kind: 'unknown-version'; readonly id: string; readonly version: unknown }
  | { readonly kind: 'corrupt'; readonly id: string; readonly why: string }

export function serializeRecord(r: TrackRecord): string {
  return JSON.stringify(r)
}

const isStr = (v: unknown): v is string => typeof v === 'string'
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string'
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Validates a stored document: `id` is the record id it was stored under. */
export function parseRecord(id: string, text: string | null): RecordReading {
  if (text === null) return { kind: 'missing', id }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return { kind: 'corrupt', id, why: 'not JSON' }
  }
  if (!isObj(doc)) return { kind: 'corrupt', id, why: 'not a JSON object' }
  if (doc.v !== RECORD_VERSION) return { kind: 'unknown-version', id, version: doc.v }
  const why = problem(doc, id)
  return why ? { kind: 'corrupt', id, why } : { kind: 'ok', record: doc as unknown as TrackRecord }
}

function problem(d: Record<string, unknown>, id: string): string | undefined {
  if (d.id !== id) return `id ${JSON.stringify(d.id)} is not the key's ${id}`
  if (!isStr(d.node)) return 'node is not a string'
  if (d.instance !== 'inbound' && d.instance !== 'outbound') return 'instance is not inbound or outbound'
  if (typeof d.time !== 'number' || !Number.isFinite(d.time)) return 'time is not a number'
  if (!(STATUSES as readonly unknown[]).includes(d.status)) return `unknown status ${JSON.stringify(d.status)}`
  const c = d.client
  if (!isObj(c) || !isStr(c.ip) || !isStrOrNull(c.rdns) || !isStrOrNull(c.helo)) return 'client is not {ip, rdns, helo}'
  if (d.tls !== null && (!isObj(d.tls) || !isStr(d.tls.protocol) || !isStr(d.tls.cipher))) return 'tls is not {protocol, cipher} or null'
  for (const k of ['auth', 'from', 'messageId', 'queueId', 'quarantineId', 'reply', 'inboundRecordId'] as const) {
    if (!isStrOrNull(d[k])) return `${k} is not a string or null`
  }
  if (!Array.isArray(d.to) || !d.to.every(isStr)) return 'to is not a list of addresses'
  if (d.size !== null && typeof d.size !== 'number') return 'size is not a number or null'
  if (!Array.isArray(d.checks) || !d.checks.every((x) => isObj(x) && isStr(x.check) && isStr(x.result) && isStr(x.action))) return 'checks is not a list of {check, result, action}'
  const a = d.senderAuth
  if (a !== null && (!isObj(a) || !isStrOrNull(a.spf) || !isStrOrNull(a.dmarc) || !Array.isArray(a.dkim) || !a.dkim.every(isStr))) return 'senderAuth is not {spf, dkim, dmarc} or null'
  if (!isStr(d.action)) return 'action is not a string'
  return undefined
}
