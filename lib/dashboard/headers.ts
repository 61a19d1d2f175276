// The headers every dashboard answer carries: a strict Content-Security-Policy
// (own scripts and styles only, no inline script, no framing), no MIME sniffing,
// no referrer, and no caching of API answers.

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
})

/** Longest request target accepted (path and query): the dashboard needs a few dozen characters. */
export const MAX_TARGET_LENGTH = 1024

/** Query parameters the dashboard knows; any other is a 400. */
export const KNOWN_PARAMS: ReadonlySet<string> = new Set(['range', 'token'])
