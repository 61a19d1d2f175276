// Who may read the dashboard: anyone who reaches a loopback address when no
// token is configured; otherwise whoever presents the token, as a Bearer header,
// a Basic password (any user name: the browser's own prompt), or once as
// ?token= which leaves a cookie behind. Compared in constant time; the cookie
// holds a digest of the token, never the token itself.

import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

export const COOKIE_NAME = 'gw_dashboard'

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Equal in constant time (both sides hashed first: the length leaks nothing). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

/** The cookie value for a token: a digest bound to its purpose. */
export function cookieValue(token: string): string {
  return createHash('sha256').update(`gateway-dashboard-session\0${token}`).digest('hex')
}

/** The Set-Cookie header after a valid ?token=. */
export function sessionCookie(token: string): string {
  return `${COOKIE_NAME}=${cookieValue(token)}; HttpOnly; SameSite=Strict; Path=/`
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export type AuthOutcome = 'allowed' | 'denied' | 'set-cookie'

/**
 * Whether a request may proceed: "set-cookie" when it presented a valid
 * ?token= (the caller sets the cookie and redirects to drop it from the URL).
 */
export function authorize(token: string, headers: IncomingHttpHeaders, queryToken: string | null): AuthOutcome {
  if (token === '') return 'allowed'
  if (queryToken !== null) return sameSecret(queryToken, token) ? 'set-cookie' : 'denied'
  const auth = headers.authorization ?? ''
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth)
  if (bearer) return sameSecret(bearer[1]!, token) ? 'allowed' : 'denied'
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth)
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon >= 0 && sameSecret(decoded.slice(colon + 1), token) ? 'allowed' : 'denied'
  }
  const c = cookie(headers.cookie, COOKIE_NAME)
  return c !== undefined && sameSecret(c, cookieValue(token)) ? 'allowed' : 'denied'
}
