// Keeps SMTP AUTH credentials out of Haraka: out of its log at every level and
// out of every hook's parameters.
//
// Why per-connection overrides (lib/haraka/connection.ts has the Haraka lines):
// Haraka logs each command line ("C: ..." at PROTOCOL) before any hook
// runs, lines pipelined behind an unanswered command at DEBUG ("pipeline: ...",
// "[early_talker]"), and the first parameter of every hook at INFO (a verdict) or
// DEBUG (every plugin, also those that continue). A SASL response (AUTH LOGIN's user
// and password lines, AUTH PLAIN's response after 334) reaches plugins as the
// *command* of `unrecognized_command`, an initial response as part of the AUTH line:
// every one of those paths would write the credentials in base64 (decodable). No
// hook runs early enough to prevent it. So the plugin that owns AUTH installs, at
// connect_init:
// - a `process_line` that takes the credentials out of the line before Haraka sees
//   it (the whole next line after a 334, the initial response of `AUTH <mech> <ir>`),
//   keeps them for the AUTH plugin (takeResponse) and hands Haraka a placeholder;
// - a `logdebug` that shows only the command verb of a line logged before
//   process_line saw it (pipelined lines: a client may send its response early).

import { connection as haraka } from 'haraka-constants'

import { lineText, overrideCommandLine, overrideDebugLog } from '../haraka'

/** What Haraka sees, logs and passes to hooks instead of a SASL response. */
export const RESPONSE_PLACEHOLDER = '[sasl-response]'

interface Intake {
  /** The next command line is a SASL response (a 334 was sent). */
  awaiting: boolean
  /** The response taken out of the last line, until the AUTH plugin takes it. */
  response: string | undefined
}

/** connection.state (docs/Connection.md): the constants of haraka-constants. */
type Conn = Haraka.Connection & { state: number }

const intakes = new WeakMap<Haraka.Connection, Intake>()

// `AUTH <mechanism> <initial response>`: Haraka splits commands on spaces only.
const AUTH_WITH_RESPONSE = /^(AUTH +\S+) +(\S.*)$/i

export function installCredentialIntake(c: Haraka.Connection): void {
  const conn = c as Conn
  if (intakes.has(c)) return
  const intake: Intake = { awaiting: false, response: undefined }

  overrideCommandLine(conn, (line, harakaProcessLine) => {
    // Only command lines: DATA lines are the message, and a line in any other state is not parsed.
    if (conn.state !== haraka.state.CMD && conn.state !== haraka.state.LOOP) return harakaProcessLine(line)
    const text = lineText(conn, line)
    intake.response = undefined // a response nobody took (e.g. AUTH refused) is forgotten with its line
    let seen: string | undefined
    if (intake.awaiting && conn.state === haraka.state.CMD) {
      // RFC 4954: after a 334 the client's next line is the response, whatever it looks like
      intake.awaiting = false
      intake.response = text
      seen = RESPONSE_PLACEHOLDER
    } else {
      const m = AUTH_WITH_RESPONSE.exec(text)
      if (m) {
        intake.response = m[2]!
        seen = `${m[1]!} ${RESPONSE_PLACEHOLDER}`
      }
    }
    return harakaProcessLine(seen === undefined ? line : Buffer.from(`${seen}\r\n`))
  })
  overrideDebugLog(conn, (args) => args.map((a) => hideEarlyLine(a)))
  intakes.set(c, intake)
}

/** The AUTH plugin sent a 334: the next command line is the client's response. */
export function awaitResponse(c: Haraka.Connection): void {
  const intake = intakes.get(c)
  if (intake) intake.awaiting = true
}

/** The SASL response taken out of the current line (once), or undefined if it carried none. */
export function takeResponse(c: Haraka.Connection): string | undefined {
  const intake = intakes.get(c)
  const response = intake?.response
  if (intake) intake.response = undefined
  return response
}

/** The SMTP verbs a logged client line may show; anything else could be a credential. */
const VERBS = new Set(['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'EXPN', 'HELP', 'STARTTLS', 'AUTH'])

/** A client line as it may be logged before process_line saw it: its verb only. */
export function lineSummary(line: string): string {
  const verb = /^[A-Za-z]+/.exec(line)?.[0].toUpperCase()
  if (verb === undefined || !VERBS.has(verb)) return RESPONSE_PLACEHOLDER
  return line.length > verb.length ? `${verb} [...]` : verb
}

// Haraka's two log calls that carry a client line before it is processed:
// logdebug(`pipeline: ${line}`) and logdebug('[early_talker]', { state, esmtp, line }).
function hideEarlyLine(arg: unknown): unknown {
  if (typeof arg === 'string' && arg.startsWith('pipeline: ')) return `pipeline: ${lineSummary(arg.slice(10).replace(/\r?\n$/, ''))}`
  if (arg !== null && typeof arg === 'object' && Object.getPrototypeOf(arg) === Object.prototype && 'line' in arg) {
    const line = (arg as { line: unknown }).line
    return { ...arg, line: lineSummary(String(line).replace(/\r?\n$/, '')) }
  }
  return arg
}
