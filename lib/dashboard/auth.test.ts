// Unit tests for the dashboard's token check: no token, Bearer, Basic, ?token= (cookie), cookie; wrong values denied.
import { describe, expect, it } from 'vitest'

import { authorize, cookieValue, COOKIE_NAME, sameSecret, sessionCookie } from './auth'

const TOKEN = 'correct-horse-battery-staple'

describe('authorize', () => {
  it('lets everyone in without a token (loopback only, enforced by the configuration)', () => {
    expect(authorize('', {}, null)).toBe('allowed')
  })

  it('takes the token as Bearer, as a Basic password (any user), or once in the URL', () => {
    expect(authorize(TOKEN, { authorization: `Bearer ${TOKEN}` }, null)).toBe('allowed')
    expect(authorize(TOKEN, { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }, null)).toBe('allowed')
    expect(authorize(TOKEN, {}, TOKEN)).toBe('set-cookie')
    expect(authorize(TOKEN, { cookie: `other=1; ${COOKIE_NAME}=${cookieValue(TOKEN)}` }, null)).toBe('allowed')
  })

  it('denies anything else', () => {
    expect(authorize(TOKEN, {}, null)).toBe('denied')
    expect(authorize(TOKEN, { authorization: 'Bearer wrong' }, null)).toBe('denied')
    expect(authorize(TOKEN, { authorization: `Bearer ${TOKEN}x` }, null)).toBe('denied')
    expect(authorize(TOKEN, { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` }, null)).toBe('denied')
    expect(authorize(TOKEN, {}, 'wrong')).toBe('denied')
    // the cookie holds a digest: the token itself as cookie value does not work
    expect(authorize(TOKEN, { cookie: `${COOKIE_NAME}=${TOKEN}` }, null)).toBe('denied')
  })

  it('the session cookie is HttpOnly, SameSite=Strict and does not contain the token', () => {
    const c = sessionCookie(TOKEN)
    expect(c).toMatch(/HttpOnly/)
    expect(c).toMatch(/SameSite=Strict/)
    expect(c).not.toContain(TOKEN)
  })

  it('compares secrets of different lengths without throwing', () => {
    expect(sameSecret('a', 'a-much-longer-secret')).toBe(false)
    expect(sameSecret(TOKEN, TOKEN)).toBe(true)
  })
})
