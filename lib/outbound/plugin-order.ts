// The outbound plugin order that header scrubbing and DKIM signing depend on,
// checked at startup: a wrong order would not fail, it would silently send
// internal headers or sign headers that are changed afterwards.
//
// Why this order: gateway-spool answers queue_outbound (OK ends that hook), then
// calls Haraka's send_trans_email, which runs pre_send_trans_email in plugin order.
// haraka-plugin-dkim signs in queue_outbound when listed before gateway-spool, and
// in pre_send_trans_email otherwise. gateway-outbound-scrub works in both hooks.

import { ConfigError } from '../config/errors'

export interface PluginEntry {
  /** As written, without a "haraka-plugin-" prefix. */
  readonly name: string
  readonly line: number
}

export const SCRUB = 'gateway-outbound-scrub'
const SPOOL = 'gateway-spool'
const DKIM = 'dkim'

/** Throws a ConfigError (naming `where`, the plugins file) if scrubbing or signing would run out of order. */
export function checkOutboundOrder(plugins: readonly PluginEntry[], where: string): void {
  const find = (name: string) => plugins.find((p) => p.name === name)
  const scrub = find(SCRUB)
  const spool = find(SPOOL)
  const dkim = find(DKIM)
  if (scrub && spool && scrub.line > spool.line) {
    throw new ConfigError(`${where}:${scrub.line}`, SCRUB, `must come before ${SPOOL} (which ends the queue_outbound hook)`)
  }
  if (dkim && spool && dkim.line < spool.line) {
    throw new ConfigError(`${where}:${dkim.line}`, DKIM, `must come after ${SPOOL}, so that it signs the message as queued (after ${SCRUB}), not before`)
  }
  if (dkim && scrub && dkim.line < scrub.line) {
    throw new ConfigError(`${where}:${dkim.line}`, DKIM, `must come after ${SCRUB}`)
  }
}
