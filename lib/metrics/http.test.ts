// Unit test of the endpoint's handler on a real HTTP server: paths, methods, the
// bearer token (compared in constant time), render failures.

import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { authorized, digest, metricsHandler, type Exposition } from './http'

const TOKEN = 'a-long-enough-token-123'
let failRender = false
const servers: http.Server[] = []
const errors: unknown[] = []

function start(token?: string): Promise<string> {
  const handler = metricsHandler({
    token,
    render: async (): Promise<Exposition> => {
      if (failRender) throw new Error('workers gone')
      return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'gateway_connections_total 1\n' }
    },
    onError: (err) => errors.push(err),
  })
  const server = http.createServer(handler)
  servers.push(server)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))
}

let open: string
let locked: string

beforeAll(async () => {
  open = await start()
  locked = await start(TOKEN)
})
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))))

describe('metricsHandler', () => {
  it('serves /metrics with the registry content type, /healthz, and 404 for the rest', async () => {
    const r = await fetch(`${open}/metrics`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(await r.text()).toBe('gateway_connections_total 1\n')
    expect((await fetch(`${open}/metrics?x=1`)).status).toBe(200)
    const h = await fetch(`${open}/healthz`)
    expect([h.status, await h.text()]).toEqual([200, 'ok\n'])
    for (const p of ['/', '/metrics/', '/Metrics', '/metricsx', '/%6detrics', '/metrics/x', '/favicon.ico']) expect((await fetch(`${open}${p}`)).status, p).toBe(404)
  })

  it('answers only GET', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
      const r = await fetch(`${open}/metrics`, { method })
      expect(r.status, method).toBe(405)
      expect(r.headers.get('allow')).toBe('GET')
    }
  })

  it('requires the bearer token on /metrics when one is set, never on /healthz', async () => {
    expect((await fetch(`${locked}/metrics`)).status).toBe(401)
    expect((await fetch(`${locked}/metrics`)).headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await fetch(`${locked}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401)
    expect((await fetch(`${locked}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401)
    expect((await fetch(`${locked}/metrics`, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } })).status).toBe(401)
    expect((await fetch(`${locked}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
    expect((await fetch(`${locked}/metrics`, { headers: { authorization: `bearer  ${TOKEN}` } })).status).toBe(200)
    expect((await fetch(`${locked}/healthz`)).status).toBe(200)
  })

  it('compares tokens by digest, in constant time, and rejects a missing header', () => {
    const expected = digest(TOKEN)
    expect(authorized(`Bearer ${TOKEN}`, expected)).toBe(true)
    expect(authorized(undefined, expected)).toBe(false)
    expect(authorized('Bearer', expected)).toBe(false)
    expect(authorized('', digest(''))).toBe(false) // an empty token never matches
  })

  it('answers 500 without details when rendering fails, and reports the error', async () => {
    failRender = true
    try {
      const r = await fetch(`${open}/metrics`)
      expect([r.status, await r.text()]).toEqual([500, 'metrics unavailable\n'])
      expect(String(errors.at(-1))).toContain('workers gone')
    } finally {
      failRender = false
    }
  })
})
