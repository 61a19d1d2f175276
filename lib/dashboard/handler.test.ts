// Unit tests for the dashboard's HTTP handler on a real loopback socket with
// fixed data: security headers, methods, bounded query, the token flow, assets.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadAssets } from './assets'
import { cookieValue, COOKIE_NAME } from './auth'
import { dashboardHandler, type DashboardSource } from './handler'
import type { SummaryV1 } from './summary'

const TOKEN = 'a-token-of-sufficient-length'
const logged: string[] = []
let failing = false
const source: DashboardSource = {
  summary: async (range) => {
    if (failing) throw new Error('Connection is closed.')
    return { version: 1, range: { name: range.name } } as unknown as SummaryV1
  },
  links: async () => ({ version: 1, generatedAt: 'x', links: [] }),
}

function serve(token: string): Promise<{ base: string; server: http.Server }> {
  const server = http.createServer(dashboardHandler({ token, assets: loadAssets(), source, log: (l) => logged.push(l) }))
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })))
}

let open: { base: string; server: http.Server }
let guarded: { base: string; server: http.Server }
beforeAll(async () => {
  open = await serve('')
  guarded = await serve(TOKEN)
})
afterAll(async () => {
  for (const s of [open, guarded]) await new Promise((r) => s.server.close(r))
})

describe('dashboard handler', () => {
  it('serves the page, its script and uPlot from node_modules, with a strict CSP', async () => {
    const page = await fetch(`${open.base}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    const html = await page.text()
    expect(html).not.toMatch(/<script>(?!<)/) // no inline script
    expect(html).toContain('src="/vendor/uPlot.iife.min.js"')
    expect((await fetch(`${open.base}/dashboard.js`)).headers.get('content-type')).toMatch(/javascript/)
    const uplot = await fetch(`${open.base}/vendor/uPlot.iife.min.js`)
    expect(uplot.status).toBe(200)
    expect(await uplot.text()).toContain('uPlot')
  })

  it('answers the API as JSON, not cached; a bad range or parameter is a 400', async () => {
    const r = await fetch(`${open.base}/api/summary?range=24h`)
    expect(r.status).toBe(200)
    expect(r.headers.get('cache-control')).toBe('no-store')
    expect(await r.json()).toMatchObject({ version: 1, range: { name: '24h' } })
    expect((await fetch(`${open.base}/api/summary?range=7d`)).status).toBe(400)
    expect((await fetch(`${open.base}/api/summary?range=1h&x=1`)).status).toBe(400)
    expect((await fetch(`${open.base}/api/summary?range=1h&range=24h`)).status).toBe(400)
    expect((await fetch(`${open.base}/api/summary?range=${'x'.repeat(2000)}`)).status).toBe(414)
    expect((await fetch(`${open.base}/api/links`)).status).toBe(200)
  })

  it('GET and HEAD only; unknown paths 404', async () => {
    const post = await fetch(`${open.base}/api/summary`, { method: 'POST', body: 'x' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    const head = await fetch(`${open.base}/`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect((await fetch(`${open.base}/etc/passwd`)).status).toBe(404)
    expect((await fetch(`${open.base}/../package.json`)).status).toBe(404)
  })

  it('with a token: 401 without it, in with Bearer, and ?token= sets a cookie and drops the token from the URL', async () => {
    expect((await fetch(`${guarded.base}/`)).status).toBe(401)
    expect((await fetch(`${guarded.base}/api/summary`)).status).toBe(401)
    expect((await fetch(`${guarded.base}/api/summary`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
    const once = await fetch(`${guarded.base}/?token=${TOKEN}`, { redirect: 'manual' })
    expect(once.status).toBe(303)
    expect(once.headers.get('location')).toBe('/')
    const cookie = once.headers.get('set-cookie')!
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    expect(cookie).not.toContain(TOKEN)
    expect((await fetch(`${guarded.base}/api/summary`, { headers: { cookie: `${COOKIE_NAME}=${cookieValue(TOKEN)}` } })).status).toBe(200)
    expect((await fetch(`${guarded.base}/?token=wrong`, { redirect: 'manual' })).status).toBe(401)
  })

  it('Redis failing: 503 and one log line without the request URL', async () => {
    failing = true
    try {
      const r = await fetch(`${guarded.base}/api/summary?range=1h`, { headers: { authorization: `Bearer ${TOKEN}` } })
      expect(r.status).toBe(503)
    } finally {
      failing = false
    }
    expect(logged.at(-1)).toBe('dashboard: cannot read the counters: Connection is closed.')
    expect(logged.join('\n')).not.toContain(TOKEN)
  })
})
