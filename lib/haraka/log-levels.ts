// Haraka's routine lines one level down, NOTICE -> INFO, so that the shipped
// level (notice) shows one summary line per transaction and one per delivery
// attempt (gateway-track, lib/tracking/summary-line.ts) instead of seven or more
// per message, and `level=info` still shows every line Haraka writes today.
//
// Why no config or hook can do it (haraka 3.3.4): these lines are written with
// lognotice, hard-coded, by connection.js (connect line 149, sender 1007,
// recipient 1091/1141, message 1685, queue 1789/1863/1913, disconnect 659) and by
// outbound/hmail.js (delivered 1305, recipient deferred 746 / rejected 794).
// log.ini has one level for everything, and the `log` hook only runs after a line
// has been formatted (plugins.js run_hooks for every line): filtering there costs
// more than the line. The wrapper sees the message before anything is formatted
// and passes every other NOTICE (bare line feeds, pipelining after DATA, oversized
// messages, unparsable addresses, plugins' lines) through unchanged.
//
// The wrapper is on the two classes' prototypes (Connection and HMailItem), once
// per process; a per-connection override would be installed too late for the
// connect line (connect_init runs after it).

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

const USED_BY = 'the shipped log level (routine lines at INFO)'

export const CONNECTION_LOGNOTICE: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'lognotice'], kind: 'function', usedBy: USED_BY }
export const HMAIL_LOGNOTICE: HarakaInternal = { module: './outbound/hmail', member: ['prototype', 'lognotice'], kind: 'function', usedBy: USED_BY }

export const LOG_LEVEL_INTERNALS: readonly HarakaInternal[] = [CONNECTION_LOGNOTICE, HMAIL_LOGNOTICE]

/** Connection lines (first argument) written for every session or transaction. */
const SESSION_ROUTINE = new Set(['connect', 'disconnect', 'message', 'queue'])

/** True for the first argument of a routine Connection NOTICE: the per-command lines of every session. */
export function isRoutineSessionLine(first: unknown): boolean {
  if (typeof first !== 'string') return false
  return SESSION_ROUTINE.has(first) || first.startsWith('sender <') || first.startsWith('recipient <')
}

/** True for the first argument of a routine HMailItem NOTICE: each attempt's result, which the gateway's delivery line says. */
export function isRoutineDeliveryLine(first: unknown): boolean {
  if (typeof first === 'string') return first.startsWith('recipient ') && (first.includes(' deferred: ') || first.includes(' rejected: '))
  return typeof first === 'object' && first !== null && Object.hasOwn(first, 'delivered file')
}

type Proto = Record<string | symbol, unknown>
type LogMethod = (this: { loginfo(...args: unknown[]): void }, ...args: unknown[]) => void

const WRAPPED = Symbol.for('edge-gateway.haraka.routine-log-lines')

function demote(proto: Proto, routine: (first: unknown) => boolean): void {
  if (Object.hasOwn(proto, WRAPPED)) return
  const notice = proto.lognotice as LogMethod
  proto.lognotice = function (this: { loginfo(...args: unknown[]): void }, ...args: unknown[]): void {
    // loginfo of the same object: a per-connection filter installed on it applies as before
    if (routine(args[0])) this.loginfo(...args)
    else notice.apply(this, args)
  } satisfies LogMethod
  proto[WRAPPED] = true
}

/** Haraka's routine session and delivery lines at INFO instead of NOTICE. Once per process. */
export function demoteRoutineLogLines(source: HarakaSource): void {
  for (const i of LOG_LEVEL_INTERNALS) requireInternal(source, i)
  const load = loaderOf(source)
  demote((load(CONNECTION_LOGNOTICE.module) as { Connection: { prototype: Proto } }).Connection.prototype, isRoutineSessionLine)
  demote((load(HMAIL_LOGNOTICE.module) as { prototype: Proto }).prototype, isRoutineDeliveryLine)
}
