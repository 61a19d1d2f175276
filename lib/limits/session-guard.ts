// The limits of one SMTP session once it is open: the error limit, a deadline for
// each command (from the server's reply to the client's next complete line), a
// minimum data rate inside DATA, and a deadline for the whole session. What
// Haraka offers (smtp.ini inactivity_timeout) restarts on every byte, so a client
// sending one byte every 10 s was never dropped.
//
// The guard knows nothing of Haraka: it is told the phase of the session and what
// happened (lines, replies), and calls `exceeded` with the limit's result when one
// is passed. Whoever owns the connection records the decision and, unless the
// action is monitor, ends the session. Each limit is reported at most once per
// session (monitor mode must not log a line per command).

import type { Phase } from '../haraka/session-watch'
import { SessionErrors, type ErrorLimits } from './session-errors'

export type SessionLimitResult = 'too_many_errors' | 'command_timeout' | 'session_timeout' | 'data_rate'

export interface SessionLimits extends ErrorLimits {
  /** Seconds the client has for each command line after a reply; 0 = none. */
  readonly commandTimeout: number
  /** Seconds a session may last; 0 = none. */
  readonly sessionTimeout: number
  /** Bytes per second a client must at least send inside DATA, judged over each window; 0 = none. */
  readonly dataMinRate: number
  /** Seconds of each window the data rate is judged over. */
  readonly dataRateWindow: number
}

export interface GuardHost {
  phase(): Phase
  /** A limit was passed; returns true when the session is being ended (action reject), false when only recorded (monitor). */
  exceeded(result: SessionLimitResult, detail: string): boolean
}

type Timer = ReturnType<typeof setTimeout>

export class SessionGuard {
  private readonly errors: SessionErrors
  private readonly reported = new Set<SessionLimitResult>()
  private ending = false
  private sessionExpired = false
  /** One timer per session for the command deadline, re-armed (refresh) at each reply. */
  private commandTimer: Timer | undefined
  /** The server waits for a command line since its last reply: the command deadline counts. */
  private awaitingCommand = false
  private sessionTimer: Timer | undefined
  private dataTimer: Timer | undefined
  private dataBytes = 0

  constructor(
    private readonly limits: SessionLimits,
    private readonly host: GuardHost,
  ) {
    this.errors = new SessionErrors(limits)
    if (limits.sessionTimeout > 0) this.sessionTimer = setTimeout(() => this.onSessionDeadline(), limits.sessionTimeout * 1000)
  }

  /** A complete line from the client (never kept or logged). */
  line(phase: Phase, line: Buffer): void {
    if (phase === 'data') {
      this.dataBytes += line.length
      return
    }
    if (phase !== 'command') return
    // the timer stays scheduled: when it fires with nothing awaited it does nothing
    this.awaitingCommand = false
    // only the verb is looked at; a SASL line is base64, never a junk verb
    this.errors.command(line.subarray(0, 8).toString('latin1'))
  }

  /** A reply is about to be sent: true when the session ends instead (error past the limit, action reject). */
  replacing(code: number): boolean {
    if (this.ending) return false
    if (!this.errors.reply(code)) return false
    return this.report('too_many_errors', `errors=${this.errors.count} max=${this.limits.maxErrors}`)
  }

  /** A reply was sent; `phase` is what the session does now. */
  replied(phase: Phase): void {
    if (this.ending) return
    if (this.sessionExpired && (phase === 'command' || phase === 'data')) {
      this.onSessionDeadline()
      return
    }
    if (phase === 'command' && this.limits.commandTimeout > 0) {
      this.awaitingCommand = true
      // re-armed, not replaced: a new timer per reply was ~6 per message (issue 12)
      if (this.commandTimer) this.commandTimer.refresh()
      else this.commandTimer = setTimeout(() => this.onCommandDeadline(), this.limits.commandTimeout * 1000)
    }
    if (phase === 'data' && this.limits.dataMinRate > 0 && !this.dataTimer) this.startDataWindow()
  }

  /** A message was accepted: error and junk counts start again. */
  delivered(): void {
    this.errors.delivered()
  }

  /** The session is over: no timer may fire any more. */
  close(): void {
    this.ending = true
    this.clear('command')
    this.clear('data')
    if (this.sessionTimer) clearTimeout(this.sessionTimer)
    this.sessionTimer = undefined
  }

  private report(result: SessionLimitResult, detail: string): boolean {
    if (this.ending || this.reported.has(result)) return false
    this.reported.add(result)
    const ends = this.host.exceeded(result, detail)
    if (ends) this.close()
    return ends
  }

  private onCommandDeadline(): void {
    if (!this.awaitingCommand) return // a line came after the last reply
    this.awaitingCommand = false
    if (this.host.phase() !== 'command') return
    this.report('command_timeout', `timeout=${this.limits.commandTimeout}s`)
  }

  private onSessionDeadline(): void {
    this.sessionTimer = undefined
    this.sessionExpired = true
    const phase = this.host.phase()
    // while the server is busy (a hook running) the session ends after its reply (replied()), never in the middle of one
    if (phase === 'command' || phase === 'data') this.report('session_timeout', `timeout=${this.limits.sessionTimeout}s`)
  }

  private startDataWindow(): void {
    this.dataBytes = 0
    this.dataTimer = setTimeout(() => this.onDataWindow(), this.limits.dataRateWindow * 1000)
  }

  private onDataWindow(): void {
    this.dataTimer = undefined
    const phase = this.host.phase()
    if (phase === 'command' || phase === 'closed') return // DATA is over
    const needed = this.limits.dataMinRate * this.limits.dataRateWindow
    // busy inside DATA: Haraka paused reading (spooling, end-of-data hooks): the client is not to blame for this window
    if (phase === 'data' && this.dataBytes < needed) {
      if (this.report('data_rate', `bytes=${this.dataBytes} in ${this.limits.dataRateWindow}s, min_rate=${this.limits.dataMinRate}/s`)) return
    }
    this.startDataWindow()
  }

  private clear(which: 'command' | 'data'): void {
    const t = which === 'command' ? this.commandTimer : this.dataTimer
    if (t) clearTimeout(t)
    if (which === 'command') this.commandTimer = undefined
    else this.dataTimer = undefined
  }
}
