// Per-connection overrides of four methods of Haraka's Connection (connection.js),
// installed by plugins at connect_init on that one connection object (an own
// property shadows the class method; other connections are untouched). Each
// override receives Haraka's own method as `haraka`, to hand everything it does
// not handle back unchanged.
//
// Why no hook can do it (checked against haraka 3.3.4 connection.js):
// - cmd_mail (line 1340) refuses MAIL FROM with SIZE= over [max] bytes itself,
//   "550 Message too big!" (line 1394), before any `mail` hook runs.
// - max_data_exceeded_respond (line 1735) answers "550 Message too big!" whatever
//   the `max_data_exceeded` hook returned: the hook's reply is ignored.
// - process_line (line 290) logs each command line ("C: ...", PROTOCOL) and hands
//   it to cmd_* or to the `unrecognized_command` hook as a parameter that the hook
//   runner logs (plugins.js): a SASL response would reach the log in base64. No
//   hook runs before the line is logged.
// - logdebug: _process_data (lines 429, 468, 473) logs lines pipelined behind an
//   unanswered command ("pipeline: ...", "[early_talker]") before process_line.

import { CHECKLIST, HarakaIncompatibleError, type HarakaInternal } from './internal'

const SIZE_REPLIES = 'gateway-content (SIZE and message size replies)'
const CREDENTIAL_INTAKE = 'gateway-submission-auth and gateway-refuse-auth (credential intake)'

export const CMD_MAIL: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'cmd_mail'], kind: 'function', usedBy: SIZE_REPLIES }
export const MAX_DATA_EXCEEDED_RESPOND: HarakaInternal = {
  module: './connection',
  member: ['Connection', 'prototype', 'max_data_exceeded_respond'],
  kind: 'function',
  usedBy: SIZE_REPLIES,
}
export const PROCESS_LINE: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'process_line'], kind: 'function', usedBy: CREDENTIAL_INTAKE }
export const LOGDEBUG: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'logdebug'], kind: 'function', usedBy: CREDENTIAL_INTAKE }

const SERVER_IDENTITY = 'gateway-core (greeting and Received header without the software name)'
export const CONNECT_RESPOND: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'connect_respond'], kind: 'function', usedBy: SERVER_IDENTITY }
export const RECEIVED_LINE: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'received_line'], kind: 'function', usedBy: SERVER_IDENTITY }

export const CONNECTION_INTERNALS: readonly HarakaInternal[] = [CMD_MAIL, MAX_DATA_EXCEEDED_RESPOND, PROCESS_LINE, LOGDEBUG, CONNECT_RESPOND, RECEIVED_LINE]

type Method = (...args: never[]) => unknown

/** Haraka's method on this connection (the class's, or an earlier override), checked to be a function. */
function current<F extends Method>(c: Haraka.Connection, name: string, i: HarakaInternal): F {
  const fn = (c as unknown as Record<string, unknown>)[name]
  if (typeof fn !== 'function') {
    throw new HarakaIncompatibleError(`Haraka's connection has no ${name}() (used by ${i.usedBy}); see ${CHECKLIST}`)
  }
  return (fn as F).bind(c) as F
}

function install(c: Haraka.Connection, name: string, fn: unknown): void {
  ;(c as unknown as Record<string, unknown>)[name] = fn
}

/** MAIL FROM on this connection: `handle` answers it, or passes the argument line to `haraka`. */
export function overrideMailCommand(c: Haraka.Connection, handle: (line: string, haraka: (line: string) => void) => void): void {
  const haraka = current<(line: string) => void>(c, 'cmd_mail', CMD_MAIL)
  install(c, 'cmd_mail', (line: string) => handle(line, haraka))
}

/**
 * The reply after an oversized DATA: `handle` gets what the `max_data_exceeded`
 * hooks returned (return code and message) and answers, or passes them to `haraka`
 * ("550 Message too big!"). Whoever answers must reset the transaction afterwards.
 */
export function overrideMaxDataReply(c: Haraka.Connection, handle: (retval: number, msg: unknown, haraka: (retval: number, msg?: unknown) => void) => void): void {
  const haraka = current<(retval: number, msg?: unknown) => void>(c, 'max_data_exceeded_respond', MAX_DATA_EXCEEDED_RESPOND)
  install(c, 'max_data_exceeded_respond', (retval: number, msg?: unknown) => handle(retval, msg, haraka))
}

/**
 * Every line the client sends on this connection, before Haraka logs or parses it
 * (message data included): `handle` passes it, or a replacement, to `haraka`.
 */
export function overrideCommandLine(c: Haraka.Connection, handle: (line: Buffer, haraka: (line: Buffer) => void) => void): void {
  const haraka = current<(line: Buffer) => void>(c, 'process_line', PROCESS_LINE)
  install(c, 'process_line', (line: Buffer) => handle(line, haraka))
}

/** The arguments of every DEBUG log call made on this connection, `map`ped before they are logged. */
export function overrideDebugLog(c: Haraka.Connection, map: (args: unknown[]) => unknown[]): void {
  const haraka = current<(...args: unknown[]) => void>(c, 'logdebug', LOGDEBUG)
  install(c, 'logdebug', (...args: unknown[]) => haraka(...map(args)))
}

/** A command line as Haraka reads it (connection.js process_line: the session's encoding, line end removed). */
export function lineText(c: Haraka.Connection, line: Buffer): string {
  const encoding = (c as { encoding?: BufferEncoding }).encoding ?? 'utf8'
  return line.toString(encoding).replace(/\r?\n$/, '')
}

/**
 * The 220 greeting on this connection: when no `connect` hook answered with its
 * own text (Haraka then greets with "<me> ESMTP Haraka/<version> ready", line 848),
 * `greeting()` gives the text after the code. Refusals (421, 554) stay Haraka's.
 */
export function overrideGreeting(c: Haraka.Connection, greeting: () => string): void {
  const haraka = current<(retval: number, msg?: unknown) => void>(c, 'connect_respond', CONNECT_RESPOND)
  const CONT = 900 // haraka-constants: cont; OK (906) with no message greets too
  const OK = 906
  install(c, 'connect_respond', (retval: number, msg?: unknown) => {
    if ((retval === CONT || retval === OK) && !msg) return haraka(retval, greeting())
    return haraka(retval, msg)
  })
}

/**
 * The value of the Received header Haraka adds on this connection (line 1456:
 * "from <helo> (<remote>) by <me> (<local.info>) with ..."), with the comment after
 * "by <me>" replaced: `product` in parentheses, or nothing when it is empty.
 */
export function overrideReceivedLine(c: Haraka.Connection, product: string): void {
  const haraka = current<() => string>(c, 'received_line', RECEIVED_LINE)
  const info = (c as unknown as { local: { info: string } }).local.info
  const comment = ` (${info}) with `
  install(c, 'received_line', () => {
    const line = haraka()
    // after "by": the "from" part holds client-chosen text
    const by = line.indexOf('\tby ')
    const at = by < 0 ? -1 : line.indexOf(comment, by)
    return at < 0 ? line : `${line.slice(0, at)}${product ? ` (${product})` : ''} with ${line.slice(at + comment.length)}`
  })
}
