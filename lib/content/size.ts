// The message size limit as the client sees it: the SIZE a client declares in
// MAIL FROM (RFC 1870), read with the same parser Haraka uses, and the limit
// itself, which stays Haraka's connection.ini [max] bytes (one source of truth).

interface Rfc1869 {
  parse(type: 'mail' | 'rcpt', line: string, strict?: boolean): string[]
}
// Haraka's own dependency; it has no typings.
const { rfc1869 } = require('haraka-utils') as { rfc1869: Rfc1869 }

/** The SIZE=<n> parameter of a MAIL FROM command line (without "MAIL "), if there is a valid one. */
export function declaredSize(mailArgs: string): number | undefined {
  let parts: string[]
  try {
    parts = rfc1869.parse('mail', mailArgs, false)
  } catch {
    return undefined // Haraka answers the syntax error itself
  }
  for (const param of parts.slice(1)) {
    const m = /^SIZE=(\d{1,20})$/i.exec(param)
    if (m) return Number(m[1])
  }
  return undefined
}

/** connection.ini [max] bytes as Haraka's config reader returns it; 0 or missing = no limit. */
export function maxMessageBytes(connectionIni: unknown): number {
  const max = (connectionIni as { max?: { bytes?: unknown } } | undefined)?.max?.bytes
  const n = Number(max)
  return Number.isFinite(n) && n > 0 ? n : 0
}
