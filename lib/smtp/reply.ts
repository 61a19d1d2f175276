// SMTP replies as data: a basic code, an RFC 3463 enhanced code and a generic text.
// Every rejection the gateway sends is built from one of these, so a client always
// gets both codes and never a stack trace, hostname or file path in the text.

export interface Reply {
  /** Basic reply code, e.g. 550. */
  readonly code: number
  /** Enhanced status code, e.g. "5.7.1". Its class must match `code`. */
  readonly enhanced: string
  /** Generic human text, safe to show to anyone. */
  readonly text: string
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})$/

export function reply(code: number, enhanced: string, text: string): Reply {
  const m = ENHANCED.exec(enhanced)
  if (!m || !Number.isInteger(code) || code < 200 || code > 599 || String(code)[0] !== m[1]) {
    throw new Error(`inconsistent SMTP reply ${code} ${enhanced}`)
  }
  return Object.freeze({ code, enhanced, text })
}

export function formatReply(r: Reply): string {
  return `${r.code} ${r.enhanced} ${r.text}`
}

/** The replies this project uses in more than one place. */
export const REPLIES = Object.freeze({
  localError: reply(451, '4.3.0', 'Temporary local problem, please try again later'),
  relayDenied: reply(550, '5.7.1', 'Relaying denied'),
  authRequired: reply(530, '5.7.0', 'Authentication required'),
})
