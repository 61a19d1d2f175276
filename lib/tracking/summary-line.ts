// The two log lines the shipped level (notice) keeps for a message: one summary
// per SMTP transaction and one per delivery attempt. Key=value, one line each,
// every value a client could choose quoted and cut short: a log reader can split
// on spaces and nobody can forge a line. Never a password or SASL exchange:
// only the authenticated name.

import { authOf } from './collect'
import { decisionsOf } from '../policy/marks'

/** How a transaction ended, as its summary says it. */
export interface TransactionOutcome {
  /** accepted, quarantined, rejected, tempfailed; nothing set: the client ended it (RSET, QUIT, next MAIL). */
  readonly result: 'accepted' | 'quarantined' | 'rejected' | 'tempfailed'
  /** The final reply ("250 2.0.0 Message queued", "550 5.7.1 ..."). */
  readonly reply: string
}

/** What the summary needs beyond the connection and transaction. */
export interface SummaryFacts {
  readonly outcome: TransactionOutcome | undefined
  /** Recipients refused at RCPT, and the last of those replies. */
  readonly refused: number
  readonly lastRefusal: string | undefined
  /** Seconds from the start of the transaction to its end. */
  readonly seconds: number
}

const MAX_VALUE = 200

/** A value as it goes into a line: bare when it is one plain token, else JSON-quoted; long ones cut. */
export function logValue(value: string): string {
  const cut = value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}...` : value
  return /^[\x21-\x7e]+$/.test(cut) && !/["=\\]/.test(cut) ? cut : JSON.stringify(cut)
}

function field(name: string, value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  return ` ${name}=${typeof value === 'number' ? String(value) : logValue(value)}`
}

/**
 * `summary id=... mid=... ip=... helo=... tls=Y auth=... from=... rcpts=N refused=N
 * size=N result=... reply="..." checks=check:result:action,... time=S`
 */
export function transactionSummary(c: Haraka.Connection, txn: Haraka.Transaction, f: SummaryFacts): string {
  const from = txn.mail_from ? (txn.mail_from.isNull() ? '<>' : txn.mail_from.address) : undefined
  const outcome = f.outcome ?? (f.refused > 0 && txn.rcpt_to.length === 0 ? { result: 'rejected' as const, reply: f.lastRefusal ?? '' } : undefined)
  const checks = decisionsOf(c).map((d) => `${d.check}:${d.result}:${d.action}`)
  return [
    `summary id=${txn.uuid}`,
    field('mid', txn.header?.get('Message-ID')?.trim()),
    field('ip', c.remote.ip),
    field('helo', c.hello?.host),
    c.tls?.enabled ? ' tls=Y' : ' tls=N',
    field('auth', authOf(c)),
    field('from', from),
    field('rcpts', txn.rcpt_to.length),
    f.refused > 0 ? field('refused', f.refused) : '',
    txn.data_bytes > 0 ? field('size', txn.data_bytes) : '',
    field('result', outcome?.result ?? 'ended_by_client'),
    field('reply', outcome?.reply),
    checks.length > 0 ? field('checks', checks.join(',')) : '',
    field('time', Number(f.seconds.toFixed(3))),
  ].join('')
}

export type DeliveryResult = 'delivered' | 'deferred' | 'bounced'

export interface DeliveryFacts {
  readonly result: DeliveryResult
  readonly domain: string
  /** host[ip]:port of the server that answered, when known (delivered). */
  readonly host?: string
  readonly reply: string
  readonly recipients: number
  /** Failed attempts so far (Haraka's num_failures). */
  readonly failures: number
  readonly tls?: boolean
  /** Seconds until the next attempt (deferred). */
  readonly retryIn?: number
}

/** `delivery id=... result=delivered domain=... host=... tls=Y rcpts=N failures=N reply="..." retry_in=S` */
export function deliveryLine(id: string, f: DeliveryFacts): string {
  return [
    `delivery id=${logValue(id)}`,
    field('result', f.result),
    field('domain', f.domain),
    field('host', f.host),
    f.tls === undefined ? '' : f.tls ? ' tls=Y' : ' tls=N',
    field('rcpts', f.recipients),
    field('failures', f.failures),
    field('reply', f.reply),
    f.retryIn === undefined ? '' : field('retry_in', f.retryIn),
  ].join('')
}
