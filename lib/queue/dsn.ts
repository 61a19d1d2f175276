// Delivery status notifications (RFC 3464) for mail the outbound queue gives up
// on: who may receive one (only senders inside our accepted domains, so a DSN
// never leaves for the Internet) and the per-recipient fields Haraka's generator
// (outbound/hmail.js populate_bounce_message_with_headers) can leave out or
// malformed: Action and Status are required, Remote-MTA needs its type, and
// Original-Envelope-Id may only repeat an ESMTP ENVID, which Haraka never keeps
// (it puts the Message-ID there instead).

export type ForeignSenderAction = 'drop' | 'postmaster'

export interface DsnPolicy {
  readonly acceptedDomains: ReadonlySet<string>
  readonly foreignSender: ForeignSenderAction
  /** Receives DSNs of senders outside the accepted domains when foreignSender is 'postmaster'. */
  readonly postmaster: string
}

export type DsnRoute =
  /** The original sender gets the DSN (it is one of ours). */
  | { readonly kind: 'sender' }
  /** The failed message was itself a DSN (null sender): Haraka discards it, nothing to route. */
  | { readonly kind: 'null-sender' }
  | { readonly kind: 'postmaster'; readonly address: string }
  | { readonly kind: 'drop' }

export function routeDsn(sender: { user: string | null; host: string | null }, policy: DsnPolicy): DsnRoute {
  if (!sender.user) return { kind: 'null-sender' }
  if (sender.host && policy.acceptedDomains.has(sender.host.toLowerCase())) return { kind: 'sender' }
  return policy.foreignSender === 'postmaster' ? { kind: 'postmaster', address: policy.postmaster } : { kind: 'drop' }
}

export interface DsnRecipient {
  dsn_action?: string
  dsn_status?: string
  dsn_remote_mta?: string
}

const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/

/**
 * Makes every recipient of a bounced message carry what RFC 3464 §2.3 requires:
 * Action (a bounce is "failed") and a Status code in the failure class (5.0.0
 * when the remote sent no enhanced code); Remote-MTA as "dns; host".
 */
export function completeFailedRecipient(r: DsnRecipient): void {
  r.dsn_action = 'failed'
  const status = r.dsn_status?.trim()
  if (!status || !STATUS.test(status)) {
    r.dsn_status = '5.0.0' // RFC 3463: "other or undefined" permanent failure
  } else if (!status.startsWith('5')) {
    // a temporary status that ran out of retries is a permanent failure now
    r.dsn_status = `5${status.slice(1)}`
  }
  if (r.dsn_remote_mta && !r.dsn_remote_mta.includes(';')) r.dsn_remote_mta = `dns; ${r.dsn_remote_mta}`
}

/** Drops the Original-Envelope-Id line Haraka fills with the Message-ID (no ENVID was kept). */
export function withoutFalseEnvelopeId(lines: string[]): string[] {
  return lines.filter((l) => !/^Original-Envelope-Id:/i.test(l))
}
