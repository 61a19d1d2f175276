// Haraka's own refusals as the gateway's replies: Haraka answers protocol errors
// itself ("501 Invalid RCPT TO address <x>: Invalid RFC-5321 address at position
// 27: expected \"@\"", "500 Unrecognized command", "503 Use EHLO/HELO before
// MAIL", "555 Invalid command parameters", a plugin's DENY without a message:
// "550 rcpt denied") with a basic code only, and sometimes with its parser's
// diagnosis. Every refusal of the gateway carries an RFC 3463 enhanced code and a
// generic text (lib/smtp/reply.ts), so these are given one here, chosen from the
// reply code and, where one code covers several causes, Haraka's text; a text
// that echoes the parser's diagnosis is replaced by a generic one (the client
// learns which address was bad from the command it sent, not how our parser
// works). Replies that already carry an enhanced code pass unchanged.
// Pure; installed on each connection by the gateway-replies plugin.

/** First line already begins with an enhanced code of the reply's class. */
const HAS_ENHANCED = /^([245])\.\d{1,3}\.\d{1,3}(?: |$)/

interface Rule {
  readonly code: number
  /** Haraka's text this rule is for; absent: any text of this code. */
  readonly text?: RegExp
  readonly enhanced: string
  /** A generic replacement for Haraka's text; absent: Haraka's text is kept. */
  readonly replace?: string
}

// RFC 3463 / RFC 5248 codes; the most specific rule first.
const RULES: readonly Rule[] = [
  { code: 501, text: /^Invalid MAIL FROM address/, enhanced: '5.1.7', replace: 'Bad sender address syntax' },
  { code: 501, text: /^Invalid RCPT TO address/, enhanced: '5.1.3', replace: 'Bad recipient address syntax' },
  { code: 501, text: /^Command parsing failed/, enhanced: '5.5.4', replace: 'Syntax error in parameters' },
  { code: 501, text: /8-bit characters/, enhanced: '5.6.7', replace: 'Syntax error (8-bit characters not allowed)' },
  { code: 500, enhanced: '5.5.2' }, // command unrecognized (or too many: "Stop wasting my time")
  { code: 501, enhanced: '5.5.4' }, // syntax error in parameters or arguments
  { code: 502, enhanced: '5.5.1' },
  { code: 503, enhanced: '5.5.1' }, // bad sequence of commands
  { code: 504, enhanced: '5.5.4' },
  { code: 521, enhanced: '5.5.0' }, // Haraka: command line too long (then closes)
  { code: 530, enhanced: '5.7.0' },
  { code: 550, enhanced: '5.7.1' }, // Haraka's defaults for a DENY without message: "... denied", "Access Denied"
  { code: 551, enhanced: '5.1.6' },
  { code: 552, enhanced: '5.3.4' },
  { code: 553, enhanced: '5.1.3' },
  { code: 554, enhanced: '5.7.1' }, // "Your mail is not welcome here", "rDNS Lookup Failed"
  { code: 555, enhanced: '5.5.4' }, // MAIL/RCPT parameters not recognised
  { code: 421, enhanced: '4.3.0' },
  { code: 450, enhanced: '4.7.1' }, // Haraka's defaults for a DENYSOFT without message
  { code: 451, enhanced: '4.3.0' },
  { code: 452, enhanced: '4.3.1' },
  { code: 454, enhanced: '4.7.0' },
]

/** The enhanced code for any other reply of the class: "other" (RFC 3463 X.0.0). */
const OTHER: Readonly<Record<string, string>> = { '4': '4.0.0', '5': '5.0.0' }

/**
 * The reply lines to send for `code` and Haraka's `lines`: unchanged below 400 or
 * when the first line already has an enhanced code; otherwise each line prefixed
 * with the rule's enhanced code (RFC 2034: every line of the reply), its text
 * replaced by the rule's generic one when it has one.
 */
export function withEnhancedCode(code: number, lines: readonly string[]): string[] {
  if (!Number.isInteger(code) || code < 400 || code > 599) return [...lines]
  const first = lines.find((l) => /\S/.test(l)) ?? ''
  if (HAS_ENHANCED.test(first) && first[0] === String(code)[0]) return [...lines]
  const rule = RULES.find((r) => r.code === code && (r.text === undefined || r.text.test(first)))
  const enhanced = rule?.enhanced ?? OTHER[String(code)[0]!]!
  const texts = rule?.replace !== undefined ? [rule.replace] : lines.filter((l) => /\S/.test(l))
  return (texts.length ? texts : ['Error']).map((t) => `${enhanced} ${t}`)
}
