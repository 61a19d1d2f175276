// Two methods of Haraka's delivery-queue item class (outbound/hmail.js HMailItem),
// wrapped once per process on the class: every queued message passes through them.
//
// - populate_bounce_message_with_headers (line 1011) writes the DSN. It puts the
//   Message-ID into Original-Envelope-Id (line 1150), a field RFC 3464 reserves for
//   an ESMTP ENVID, and gets the reason as an Error, so the text reads "Reason:
//   Error: 550 ...". The `bounce` hook runs before it (bounce_respond, line 1257)
//   and cannot change either; the outbound.bounce_message templates only shape the
//   text part, not the delivery-status part.
// - get_force_tls (line 1396) decides, per delivery attempt, whether STARTTLS with
//   a verified certificate is required. Its only input is tls.ini [outbound]
//   force_tls_hosts, compared case-sensitively with the MX name and the domain;
//   TODOItem.force_tls (documented) is never read. No hook runs between it and the
//   connection (try_deliver, line 323).

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

export const POPULATE_BOUNCE_MESSAGE: HarakaInternal = {
  module: './outbound/hmail',
  member: ['prototype', 'populate_bounce_message_with_headers'],
  kind: 'function',
  usedBy: 'gateway-bounce (RFC 3464 DSN fields)',
}
export const GET_FORCE_TLS: HarakaInternal = {
  module: './outbound/hmail',
  member: ['prototype', 'get_force_tls'],
  kind: 'function',
  usedBy: 'gateway-tls-policy (required TLS)',
}

export const HMAIL_INTERNALS: readonly HarakaInternal[] = [POPULATE_BOUNCE_MESSAGE, GET_FORCE_TLS]

type Proto = Record<string | symbol, unknown>
type BounceGenerator = (from: unknown, to: unknown, reason: unknown, header: unknown, cb: (err: unknown, lines?: string[]) => void) => void

const BOUNCE_WRAPPED = Symbol.for('edge-gateway.haraka.bounce-message')
const FORCE_TLS_WRAPPED = Symbol.for('edge-gateway.haraka.force-tls')

/** The HMailItem prototype, once the method `i` is checked to be there. */
function prototypeOf(source: HarakaSource, i: HarakaInternal): Proto {
  requireInternal(source, i)
  return (loaderOf(source)(i.module) as { prototype: Proto }).prototype
}

export interface BounceRewrite {
  /** The reason as the DSN's text shows it (Haraka hands over an Error). */
  reason(reason: unknown): unknown
  /** The finished DSN, as lines, before Haraka queues it. */
  lines(lines: string[]): string[]
}

/** Rewrites every DSN this process generates. Once per process: later calls keep the first rewrite. */
export function rewriteBounceMessages(source: HarakaSource, rewrite: BounceRewrite): void {
  const proto = prototypeOf(source, POPULATE_BOUNCE_MESSAGE)
  if (proto[BOUNCE_WRAPPED]) return
  const generate = proto.populate_bounce_message_with_headers as BounceGenerator
  proto.populate_bounce_message_with_headers = function (this: unknown, from, to, reason, header, cb) {
    generate.call(this, from, to, rewrite.reason(reason), header, (err, lines) => cb(err, err || !lines ? lines : rewrite.lines(lines)))
  } satisfies BounceGenerator
  proto[BOUNCE_WRAPPED] = true
}

/**
 * Makes every delivery attempt of a message for which `required(hmail)` is true
 * use Haraka's forced-TLS path (STARTTLS with a verified certificate, or no
 * delivery); any other keeps Haraka's own decision. Once per process.
 */
export function requireTlsWhen(source: HarakaSource, required: (hmail: Haraka.QueuedMail) => boolean): void {
  const proto = prototypeOf(source, GET_FORCE_TLS)
  if (proto[FORCE_TLS_WRAPPED]) return
  const haraka = proto.get_force_tls as (this: Haraka.QueuedMail, mx: Haraka.DeliveryMx) => boolean
  proto.get_force_tls = function (this: Haraka.QueuedMail, mx: Haraka.DeliveryMx): boolean {
    return required(this) || haraka.call(this, mx)
  }
  proto[FORCE_TLS_WRAPPED] = true
}
