// The dashboard server against the suite's real Redis reached through a TCP relay
// that holds the connection back for a moment, as a Redis that is slow to answer
// when the dashboard has just started: the first page request waits for that first
// connection instead of failing with 503.

import net from 'node:net'

import { afterAll, expect, inject, it } from 'vitest'

import { startDashboard } from './server'

/** A relay to `target` that starts passing bytes only `delayMs` after each connection opens. */
async function slowRelay(target: { host: string; port: number }, delayMs: number): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((client) => {
    client.pause()
    setTimeout(() => {
      const upstream = net.connect(target.port, target.host)
      client.pipe(upstream).pipe(client)
      client.resume()
      const end = () => (client.destroy(), upstream.destroy())
      client.on('error', end).on('close', end)
      upstream.on('error', end).on('close', end)
    }, delayMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() }
}

const cleanup: (() => unknown)[] = []
afterAll(async () => {
  for (const c of cleanup.reverse()) await c()
})

it('answers the first request after start once Redis is connected, not 503 while it connects', async () => {
  const url = new URL(inject('redisUrl'))
  const relay = await slowRelay({ host: url.hostname, port: Number(url.port) }, 400)
  cleanup.push(relay.close)
  const dashboard = await startDashboard({
    listen: { host: '127.0.0.1', port: 0 },
    token: '',
    redisUrl: Object.assign(new URL(url), { hostname: '127.0.0.1', port: String(relay.port) }).toString(),
    redisPrefix: `gwdashstart${process.pid}`,
    connectTimeoutMs: 5000,
    ttls: { minute_ttl: 172_800, hour_ttl: 7_776_000 },
    log: () => {},
  })
  cleanup.push(dashboard.close)
  const r = await fetch(`${dashboard.url}api/summary?range=1h`)
  expect(r.status).toBe(200)
  const links = await fetch(`${dashboard.url}api/links`)
  expect(links.status).toBe(200)
})
