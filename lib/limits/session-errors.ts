// Protocol errors of one SMTP session, counted the way Postfix does it
// (smtpd_hard_error_limit, smtpd_junk_command_limit): a client that keeps sending
// what the server cannot use is cut off instead of being answered forever.
//
// What counts as an error: every reply whose code says "your command was wrong",
// whichever part of Haraka or which plugin answered it (RFC 5321 4.2.1: 500
// syntax/unknown command, 501 bad arguments, 502 not implemented, 503 bad
// sequence such as RCPT before MAIL or DATA before RCPT, 504 parameter not
// implemented; RFC 1869/6531: 555 MAIL/RCPT parameters not recognised). Policy
// refusals (550 unknown user, 554, 4xx) are not: other checks own those and
// count them (harvest defence, AUTH lockout).
//
// Junk commands (NOOP, RSET, VRFY, EXPN, HELP, ETRN) are free up to a limit; each
// one past it counts as an error, so NOOP every few seconds cannot hold a session
// open for ever. A session that delivers a message starts both counts afresh
// ("errors without delivering mail", as Postfix words it).

const PROTOCOL_ERRORS: ReadonlySet<number> = new Set([500, 501, 502, 503, 504, 555])
const JUNK_VERBS: ReadonlySet<string> = new Set(['NOOP', 'RSET', 'VRFY', 'EXPN', 'HELP', 'ETRN'])

export interface ErrorLimits {
  /** Errors answered normally; the one after them ends the session. 0 = no limit. */
  readonly maxErrors: number
  /** Junk commands allowed before each further one counts as an error. */
  readonly junkCommands: number
}

/** The command verb of a line, upper-cased, or "" (the line is never kept: AUTH exchanges carry credentials). */
export function verbOf(line: string): string {
  const m = /^([A-Za-z]{4})(?:[ \r\n]|$)/.exec(line)
  return m ? m[1]!.toUpperCase() : ''
}

export class SessionErrors {
  private errors = 0
  private junk = 0
  private junkPending = false

  constructor(private readonly limits: ErrorLimits) {}

  /** A command line in the command phase (before its reply). */
  command(line: string): void {
    if (JUNK_VERBS.has(verbOf(line)) && ++this.junk > this.limits.junkCommands) this.junkPending = true
  }

  /** A reply about to be sent: true when it is the error past the limit (the session must end instead). */
  reply(code: number): boolean {
    const junk = this.junkPending
    this.junkPending = false
    if (!PROTOCOL_ERRORS.has(code) && !junk) return false
    this.errors++
    return this.limits.maxErrors > 0 && this.errors > this.limits.maxErrors
  }

  /** A message was accepted: the client is doing useful work, counts start again. */
  delivered(): void {
    this.errors = 0
    this.junk = 0
  }

  get count(): number {
    return this.errors
  }
}
