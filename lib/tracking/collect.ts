// Reads what a record holds from Haraka's connection and transaction: client,
// TLS, authentication, envelope, Message-ID, size and the checks' decisions.
// Never the AUTH password or SASL exchange: only the authenticated name.

import { AUTH_USER } from '../plugin/haraka-notes'
import { sessionState } from '../plugin/state'
import { decisionsOf } from '../policy/marks'
import { authSummary } from '../sender-auth/results'
import type { CheckDecision, RecordStatus, TrackInstance, TrackRecord } from './record'
import { RECORD_VERSION } from './record'

/** gateway-submission-auth's identity of the session (a user, or a peer by client certificate). */
const AUTH_IDENTITY = sessionState<{ kind?: unknown; name?: unknown }>('gateway_auth_identity')

export function authOf(c: Haraka.Connection): string | null {
  const id = AUTH_IDENTITY.get(c)
  if (id && id.kind === 'peer' && typeof id.name === 'string') return `peer:${id.name}`
  const user = AUTH_USER.get(c)
  return typeof user === 'string' && user !== '' ? user : null
}

export function tlsOf(c: Haraka.Connection): TrackRecord['tls'] {
  if (!c.tls?.enabled) return null
  const cipher = (c.tls as { cipher?: { name?: unknown; standardName?: unknown; version?: unknown } }).cipher
  return {
    protocol: typeof cipher?.version === 'string' ? cipher.version : 'unknown',
    cipher: typeof cipher?.standardName === 'string' ? cipher.standardName : typeof cipher?.name === 'string' ? cipher.name : 'unknown',
  }
}

function rdnsOf(c: Haraka.Connection): string | null {
  const host = c.remote.host
  return typeof host === 'string' && host !== '' && !/^(DNSERROR|NXDOMAIN)$/.test(host) ? host : null
}

export function messageIdOf(txn: Haraka.Transaction | null | undefined): string | null {
  const id = txn?.header?.get('Message-ID')?.trim()
  return id ? id : null
}

export interface RecordFacts {
  readonly id: string
  readonly node: string
  readonly instance: TrackInstance
  readonly time: number
  readonly status: RecordStatus
  readonly action: string
  readonly queueId?: string | null
  readonly quarantineId?: string | null
  readonly reply?: string | null
  readonly inboundRecordId?: string | null
  /** Recipients beyond the transaction's accepted ones (a refused RCPT). */
  readonly extraRecipients?: readonly string[]
}

export function buildRecord(c: Haraka.Connection, txn: Haraka.Transaction | null, f: RecordFacts): TrackRecord {
  const checks: CheckDecision[] = decisionsOf(c).map((d) => ({ check: d.check, result: d.result, action: d.action }))
  const to = [...(txn?.rcpt_to ?? []).map((r) => r.address), ...(f.extraRecipients ?? [])]
  const from = txn?.mail_from ? (txn.mail_from.isNull() ? '' : txn.mail_from.address) : null
  return {
    v: RECORD_VERSION,
    id: f.id,
    node: f.node,
    instance: f.instance,
    time: f.time,
    status: f.status,
    client: { ip: c.remote.ip, rdns: rdnsOf(c), helo: c.hello?.host ?? null },
    tls: tlsOf(c),
    auth: authOf(c),
    from,
    to: [...new Set(to)],
    messageId: messageIdOf(txn),
    size: txn && txn.data_bytes > 0 ? txn.data_bytes : null,
    senderAuth: f.instance === 'inbound' ? senderAuthOf(c) : null,
    checks,
    action: f.action,
    queueId: f.queueId ?? null,
    quarantineId: f.quarantineId ?? null,
    reply: f.reply ?? null,
    inboundRecordId: f.inboundRecordId ?? null,
  }
}

/** SPF, DKIM and DMARC as inbound found them (also when no check decided anything about them). */
export function senderAuthOf(c: Haraka.Connection): TrackRecord['senderAuth'] {
  const a = authSummary(c)
  const show = (r: { result: string; domain: string } | undefined) => (r ? `${r.result} (${r.domain})` : null)
  return { spf: show(a.spf), dkim: a.dkim.map((d) => `${d.result} (${d.domain})`), dmarc: show(a.dmarc) }
}

/** An SMTP reply as Haraka hands it to the deny hook (a DSN object, text or lines) as one line. */
export function replyText(code: number, msg: unknown): string {
  if (typeof msg === 'object' && msg !== null && 'reply' in msg) {
    const dsn = msg as { code?: unknown; reply?: unknown }
    const text = Array.isArray(dsn.reply) ? dsn.reply.join(' ') : String(dsn.reply)
    return `${typeof dsn.code === 'number' ? dsn.code : code} ${text}`
  }
  if (Array.isArray(msg)) return `${code} ${msg.join(' ')}`
  return msg === undefined || msg === null || msg === '' ? String(code) : `${code} ${String(msg)}`
}
