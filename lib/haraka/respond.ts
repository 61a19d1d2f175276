// A per-connection override of Haraka's Connection.respond (connection.js line
// 523), installed at connect_init by gateway-replies: every reply of the
// connection passes through `map` (code and lines) before Haraka formats and
// writes it, so Haraka's own refusals (protocol errors answered inside cmd_*,
// defaults of a DENY without message) get the enhanced code and generic text every
// gateway refusal has (lib/smtp/core-replies.ts).
//
// Why no hook can do it (checked against haraka 3.3.4 connection.js): the syntax
// and sequence errors of cmd_helo/cmd_ehlo/cmd_mail/cmd_rcpt (lines 1279-1388) are
// answered by calling respond() directly, before any hook runs; no setting adds
// an enhanced code. The lines Haraka itself appends inside respond() for
// commands pipelined after end of DATA ("503 Bad sequence of commands -
// pipelined after end of DATA", line 592) are written without passing through
// here: they keep Haraka's text.
// A DSN object (a plugin's reply built with haraka-dsn) passes unchanged: it
// carries its own enhanced code.

import { CHECKLIST, HarakaIncompatibleError, type HarakaInternal } from './internal'

export const RESPOND: HarakaInternal = {
  module: './connection',
  member: ['Connection', 'prototype', 'respond'],
  kind: 'function',
  usedBy: 'gateway-replies (enhanced codes on Haraka refusals)',
}

type Respond = (code: number, msg: unknown, func?: () => void) => unknown

/** Every reply on this connection: `map` gets the code and the lines and returns the lines to send. */
export function overrideReplies(c: Haraka.Connection, map: (code: number, lines: string[]) => string[]): void {
  const fn = (c as unknown as Record<string, unknown>).respond
  if (typeof fn !== 'function') throw new HarakaIncompatibleError(`Haraka's connection has no respond() (used by ${RESPOND.usedBy}); see ${CHECKLIST}`)
  const haraka = (fn as Respond).bind(c)
  ;(c as unknown as Record<string, unknown>).respond = (code: number, msg: unknown, func?: () => void) => {
    if (typeof msg !== 'string' && !Array.isArray(msg)) return haraka(code, msg, func) // a DSN object, or nothing to map
    const lines = Array.isArray(msg) ? msg.map(String) : msg.split('\n')
    return haraka(code, map(code, lines), func)
  }
}
