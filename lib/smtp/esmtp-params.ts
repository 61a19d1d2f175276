// Which ESMTP parameters a MAIL or RCPT command may carry: only those of an
// extension this server advertised in its EHLO reply (RFC 5321 4.1.1.11: a server
// must refuse parameters it does not recognise, 555), each with a valid value,
// each at most once. Haraka parses parameters into an object (connection.js
// cmd_mail), which forgets duplicates and accepts any name or value; this reads
// the command line itself. Hand-written: the grammar is one line of RFC 5321
// (esmtp-param = esmtp-keyword ["=" esmtp-value]) and no library checks values
// against advertised extensions.

export type Verb = 'MAIL' | 'RCPT'

interface ParamRule {
  /** The EHLO keyword that makes the parameter legal. */
  readonly extension: string
  readonly verb: Verb
  /** A valid value; undefined: the parameter takes no value. */
  readonly value?: RegExp
}

// One xtext character (RFC 3461 4): printable ASCII except "+" and "=", or "+" and two hex digits.
const XCHAR = String.raw`(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})`

const RULES = new Map<string, ParamRule>([
  // RFC 1870: a decimal number of octets (20 digits cover any 64-bit size)
  ['MAIL SIZE', { extension: 'SIZE', verb: 'MAIL', value: /^\d{1,20}$/ }],
  // RFC 6152 / RFC 3030
  ['MAIL BODY', { extension: '8BITMIME', verb: 'MAIL', value: /^(?:7BIT|8BITMIME)$/i }],
  // RFC 6531: no value
  ['MAIL SMTPUTF8', { extension: 'SMTPUTF8', verb: 'MAIL' }],
  // RFC 4954 5: the authenticated submitter, xtext or "<>"
  ['MAIL AUTH', { extension: 'AUTH', verb: 'MAIL', value: new RegExp(`^(?:<>|${XCHAR}+)$`) }],
  // RFC 3461 DSN, legal only when DSN is advertised (Haraka does not)
  ['MAIL RET', { extension: 'DSN', verb: 'MAIL', value: /^(?:FULL|HDRS)$/i }],
  // ENVID and ORCPT hold at most 100 / 500 characters (RFC 3461 4.4, 4.2)
  ['MAIL ENVID', { extension: 'DSN', verb: 'MAIL', value: new RegExp(`^${XCHAR}{1,100}$`) }],
  ['RCPT NOTIFY', { extension: 'DSN', verb: 'RCPT', value: /^(?:NEVER|(?:SUCCESS|FAILURE|DELAY)(?:,(?:SUCCESS|FAILURE|DELAY))*)$/i }],
  ['RCPT ORCPT', { extension: 'DSN', verb: 'RCPT', value: new RegExp(`^[A-Za-z0-9-]+;${XCHAR}{1,500}$`) }],
  // RFC 8689
  ['MAIL REQUIRETLS', { extension: 'REQUIRETLS', verb: 'MAIL' }],
])

/** The EHLO keywords of a capabilities list as Haraka keeps it ("SIZE 26214400", "AUTH PLAIN LOGIN"). */
export function advertisedExtensions(capabilities: readonly string[] | undefined): Set<string> {
  return new Set((capabilities ?? []).map((line) => (line.split(/\s+/, 1)[0] ?? '').toUpperCase()))
}

interface Rfc1869 {
  parse(type: 'mail' | 'rcpt', line: string, strict?: boolean): string[]
}
// Haraka's own parser (a dependency of Haraka, pinned here too; it has no typings): the same split as Haraka's.
const { rfc1869 } = require('haraka-utils') as { rfc1869: Rfc1869 }

/**
 * The parameters of a MAIL or RCPT command line as the client sent it
 * ("MAIL FROM:<a@b> SIZE=10"), duplicates kept; undefined when the line does not
 * parse (Haraka has already answered that itself).
 */
export function paramsOf(commandLine: string): { verb: Verb; params: string[] } | undefined {
  const m = /^(MAIL|RCPT)[ \t]+(.*)$/is.exec(commandLine)
  if (!m) return undefined
  const verb = m[1]!.toUpperCase() as Verb
  try {
    return { verb, params: rfc1869.parse(verb === 'MAIL' ? 'mail' : 'rcpt', m[2]!, false).slice(1) }
  } catch {
    return undefined
  }
}

/** Why the parameters are not acceptable (for the log), or undefined when they are. */
export function paramProblem(verb: Verb, params: readonly string[], advertised: ReadonlySet<string>): string | undefined {
  const seen = new Set<string>()
  for (const param of params) {
    const eq = param.indexOf('=')
    const name = (eq === -1 ? param : param.slice(0, eq)).toUpperCase()
    const value = eq === -1 ? undefined : param.slice(eq + 1)
    const rule = RULES.get(`${verb} ${name}`)
    if (!rule || !advertised.has(rule.extension)) return `unknown parameter ${printable(name)}`
    if (seen.has(name)) return `duplicate parameter ${name}`
    seen.add(name)
    if (rule.value === undefined ? value !== undefined : value === undefined || !rule.value.test(value)) {
      return `invalid value for ${name}: ${value === undefined ? '(none)' : printable(value)}`
    }
  }
  return undefined
}

function printable(s: string): string {
  return JSON.stringify(s.slice(0, 40))
}
