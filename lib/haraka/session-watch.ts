// What gateway-client-limits needs of Haraka's Connection (connection.js) to
// enforce session limits: the state of the session, every command line and every
// reply of one connection, the client's first bytes before the greeting, and a
// way to end the session with a reply of its own. Per connection: own properties
// shadow the class methods on that one object (like connection.ts), and each
// override hands everything to Haraka's method (or an earlier override) unchanged.
//
// Why no hook or setting can do it (checked against haraka 3.3.4 connection.js):
// - Timeouts: the only one is smtp.ini inactivity_timeout (server.js line 320,
//   socket.setTimeout): it restarts on every byte, so one byte every 10 s keeps a
//   session open for ever, in commands and inside DATA; there is no per-command
//   deadline, session deadline or minimum data rate, and NOOP/RSET reset nothing
//   because nothing is counted. The timers need to know when the server waits for
//   the client (`state`, line 90: CMD/LOOP waiting for a command, DATA receiving the
//   message, PAUSE* busy with hooks), which no hook says.
// - Errors: most protocol errors (syntax, 503 bad sequence) are answered inside
//   cmd_* by calling respond() (lines 1279-1420) before any hook runs;
//   `connection.errors` counts only some of them. respond() (line 523) sees every
//   reply, with its code.
// - Junk commands and DATA bytes: process_line (line 290) sees every complete line
//   in both phases (it is also what connection.ts overrideCommandLine wraps).
// - Pre-greeting bytes: Haraka notices them (`early_talker`, line 423) only for a
//   complete line and only after it is buffered, and then re-runs _process_data on
//   every tick until the greeting is sent; the socket's `data` event (`client`,
//   the net.Socket) sees the first byte.

import DSN from 'haraka-dsn'

import { PROCESS_LINE } from './connection'
import { CHECKLIST, HarakaIncompatibleError, type HarakaInternal } from './internal'

const USED_BY = 'gateway-client-limits (session deadlines, error limit, early talkers)'

export const RESPOND_FOR_LIMITS: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'respond'], kind: 'function', usedBy: USED_BY }
export const DISCONNECT_FOR_LIMITS: HarakaInternal = { module: './connection', member: ['Connection', 'prototype', 'disconnect'], kind: 'function', usedBy: USED_BY }
// respond() is checked at startup once, under its first user's entry (respond.ts; a
// second entry with the same name would be a duplicate in the checklist)
export const SESSION_WATCH_INTERNALS: readonly HarakaInternal[] = [DISCONNECT_FOR_LIMITS]

// haraka-constants connection.state (connection.js line 90)
const CMD = 1
const LOOP = 2
const DATA = 3
const DISCONNECTING = 99

/** What the session is doing: waiting for a command, receiving message data, busy (hooks, before the greeting), or closing. */
export type Phase = 'command' | 'data' | 'busy' | 'closed'

interface Internals {
  state?: unknown
  client?: { on?: unknown; off?: unknown; write?: unknown }
  respond?: unknown
  process_line?: unknown
  disconnect?: unknown
}

function internals(c: Haraka.Connection): Internals {
  return c as unknown as Internals
}

export function phaseOf(c: Haraka.Connection): Phase {
  const state = internals(c).state
  if (typeof state !== 'number' || state >= DISCONNECTING) return 'closed'
  if (state === CMD || state === LOOP) return 'command'
  if (state === DATA) return 'data'
  return 'busy'
}

export interface SessionObserver {
  /** A complete line from the client, in the phase it arrived in, before Haraka handles (or logs) it. Never log it: AUTH exchanges carry credentials. */
  line(phase: Phase, line: Buffer): void
  /** A reply about to be written: return true to have the session ended instead (the caller then sends its own reply through end()). */
  replacing(code: number): boolean
  /** A reply was written; `phase` is what the session does now. */
  replied(phase: Phase): void
}

type Respond = (code: number, msg: unknown, func?: () => void) => unknown

function method<F>(c: Haraka.Connection, name: keyof Internals, i: HarakaInternal): F {
  const fn = internals(c)[name]
  if (typeof fn !== 'function') throw new HarakaIncompatibleError(`Haraka's connection has no ${name}() (used by ${i.usedBy}); see ${CHECKLIST}`)
  return (fn as (...a: unknown[]) => unknown).bind(c) as F
}

/** The code a respond() call will send: a DSN object (haraka-dsn) carries its own. */
function replyCode(code: number, msg: unknown): number {
  if (typeof msg === 'object' && msg !== null && !Array.isArray(msg)) {
    const dsnCode = (msg as { code?: unknown }).code
    if (typeof dsnCode === 'number') return dsnCode
  }
  return Number(code)
}

/** Watches one connection's lines and replies (install once per connection). */
export function watchSession(c: Haraka.Connection, o: SessionObserver): void {
  const haraka = method<Respond>(c, 'respond', RESPOND_FOR_LIMITS)
  const harakaLine = method<(line: Buffer) => void>(c, 'process_line', PROCESS_LINE)
  const self = internals(c)
  self.process_line = (line: Buffer) => {
    o.line(phaseOf(c), line)
    return harakaLine(line)
  }
  self.respond = (code: number, msg: unknown, func?: () => void) => {
    if (phaseOf(c) !== 'closed' && !ending.has(c) && o.replacing(replyCode(code, msg))) return undefined
    const out = haraka(code, msg, func)
    o.replied(phaseOf(c))
    return out
  }
}

/** Connections being ended by endSession: their last reply is not offered for replacing. */
const ending = new WeakSet<Haraka.Connection>()

/** Ends the session: `code enhanced text`, then the connection is closed. Does nothing once it is closing. */
export function endSession(c: Haraka.Connection, code: number, enhanced: string, text: string): void {
  if (phaseOf(c) === 'closed' || ending.has(c)) return
  ending.add(c)
  const respond = method<Respond>(c, 'respond', RESPOND_FOR_LIMITS)
  const disconnect = method<() => void>(c, 'disconnect', DISCONNECT_FOR_LIMITS)
  // a DSN object carries the enhanced code; reply rewriters pass it unchanged
  const [, subject, detail] = enhanced.split('.').map(Number)
  respond(code, new DSN(code, text, null, subject ?? 0, detail ?? 0), () => disconnect())
}

/** When the connection was accepted (connection.js line 109 `start_time`, ms since the epoch). */
export function connectedAt(c: Haraka.Connection): number {
  const t = (c as unknown as { start_time?: unknown }).start_time
  return typeof t === 'number' ? t : Date.now()
}

/** Haraka's own early-talker flag (connection.js line 435: a complete line before the greeting or out of PIPELINING order). */
export function harakaSawEarlyTalk(c: Haraka.Connection): boolean {
  return (c as unknown as { early_talker?: unknown }).early_talker === true
}

/** Calls `fn` on the first bytes the client sends from now on; returns a function that stops listening. */
export function onClientBytes(c: Haraka.Connection, fn: () => void): () => void {
  const socket = internals(c).client as { on?: unknown; off?: unknown } | undefined
  if (!socket || typeof socket.on !== 'function' || typeof socket.off !== 'function') {
    throw new HarakaIncompatibleError(`Haraka's connection has no client socket (used by ${USED_BY}); see ${CHECKLIST}`)
  }
  const s = socket as { on(e: string, f: () => void): void; off(e: string, f: () => void): void }
  let done = false
  const listener = () => {
    stop()
    fn()
  }
  const stop = () => {
    if (done) return
    done = true
    s.off('data', listener)
  }
  s.on('data', listener)
  return stop
}
