// The link state of one destination as stored in Redis (keys.link: a hash) and
// as read back: the field names are the storage format, shared by the writer
// (gateway-links) and the reader (`gateway links`), so they live in one place.

/** Hash fields of a link (times are epoch milliseconds, flags "1"/"0"). */
export const LINK = Object.freeze({
  successAt: 'success_at',
  successHost: 'success_host',
  successReply: 'success_reply',
  /** TLS used on the last successful delivery. */
  successTls: 'success_tls',
  failureAt: 'failure_at',
  failureReply: 'failure_reply',
  /** "delivery" or "probe": what saw the last failure. */
  failureSource: 'failure_source',
  /** Consecutive failed delivery attempts (deferrals, connection failures); 0 after a delivery. */
  failures: 'failures',
  /** Consecutive failed probes (inbound internal hosts); 0 after a good probe or a delivery. */
  probeFailures: 'probe_failures',
  /** Last permanent refusal (5xx) from the remote: the link works, the message did not. */
  bounceAt: 'bounce_at',
  bounceReply: 'bounce_reply',
  probeAt: 'probe_at',
  probeOk: 'probe_ok',
  probeReply: 'probe_reply',
  /** The gateway node that wrote the last update. */
  node: 'node',
  updatedAt: 'updated_at',
})

/** Counter (in the instance's daily stats hash) of link updates dropped because Redis was down too long. */
export const LINKS_MISSED = 'links_updates_missed'

/** How long a link's keys live after their last update. */
export const LINK_TTL_SECONDS = 30 * 86_400
/** Waiting entries older than this are left out and trimmed: a queue file lost without a hook must not count forever. */
export const WAITING_MAX_AGE_MS = 14 * 86_400_000

export type FailureSource = 'delivery' | 'probe'

/** One destination's state, as `gateway links` shows it. */
export interface LinkState {
  readonly instance: 'inbound' | 'outbound'
  readonly destination: string
  readonly deliveryFailures: number
  readonly probeFailures: number
  readonly lastSuccess: { readonly at: number; readonly host: string; readonly reply: string; readonly tls: boolean } | null
  readonly lastFailure: { readonly at: number; readonly reply: string; readonly source: FailureSource } | null
  readonly lastBounce: { readonly at: number; readonly reply: string } | null
  readonly lastProbe: { readonly at: number; readonly ok: boolean; readonly reply: string } | null
  readonly waiting: number
  /** Queued-at time (ms) of the oldest waiting message, or null. */
  readonly oldestWaiting: number | null
  readonly node: string | null
  readonly updatedAt: number | null
}

/** Consecutive failures, deliveries and probes together: > 0 means the link is failing. */
export function consecutiveFailures(s: LinkState): number {
  return s.deliveryFailures + s.probeFailures
}

const num = (v: string | undefined): number | null => {
  if (v === undefined || v === '') return null
  const n = Number(v)
  return Number.isFinite(n) ? n : null
}

/** A stored hash (HGETALL) plus the waiting numbers, as a LinkState; missing fields read as "never". */
export function parseLink(
  instance: LinkState['instance'],
  destination: string,
  h: Record<string, string>,
  waiting: { count: number; oldest: number | null },
): LinkState {
  const successAt = num(h[LINK.successAt])
  const failureAt = num(h[LINK.failureAt])
  const bounceAt = num(h[LINK.bounceAt])
  const probeAt = num(h[LINK.probeAt])
  return {
    instance,
    destination,
    deliveryFailures: Math.max(0, num(h[LINK.failures]) ?? 0),
    probeFailures: Math.max(0, num(h[LINK.probeFailures]) ?? 0),
    lastSuccess: successAt === null ? null : { at: successAt, host: h[LINK.successHost] ?? '', reply: h[LINK.successReply] ?? '', tls: h[LINK.successTls] === '1' },
    lastFailure:
      failureAt === null ? null : { at: failureAt, reply: h[LINK.failureReply] ?? '', source: h[LINK.failureSource] === 'probe' ? 'probe' : 'delivery' },
    lastBounce: bounceAt === null ? null : { at: bounceAt, reply: h[LINK.bounceReply] ?? '' },
    lastProbe: probeAt === null ? null : { at: probeAt, ok: h[LINK.probeOk] === '1', reply: h[LINK.probeReply] ?? '' },
    waiting: waiting.count,
    oldestWaiting: waiting.oldest,
    node: h[LINK.node] || null,
    updatedAt: num(h[LINK.updatedAt]),
  }
}
