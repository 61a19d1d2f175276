// The web dashboard against a real gateway, in real headless Chromium: "No
// traffic yet" on a fresh prefix; after known traffic the numbers on the page
// equal `gateway report --json` for 1h, 24h and 30d; the link state table shows
// the internal host; one more message shows up without a reload; a screenshot
// goes to test-output/dashboard.png. Also: the token (401 without, in with it),
// a non-loopback address without a token refused, an address in use refused,
// and the load time of a month of hour buckets (logged, not asserted).

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import Redis from 'ioredis'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { RedisKeys } from '../lib/redis/keys'
import type { ReportV1 } from '../lib/report/model'
import { base64 } from '../lib/smtp/client'
import { bucketOf } from '../lib/stats/buckets'
import { dashboardRefused, launchChromium, startDashboardCli, type DashboardProcess } from './helpers/dashboard'
import { addUser, outboundWithPartnerMx, sendOne } from './helpers/fixtures'
import { makeDeploymentRoot } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import { relayOne } from './helpers/outbound-relay'
import { reportJson, waitForReport } from './helpers/report-cli'
import { waitForMatch } from './helpers/wait'

const OUTPUT_DIR = path.join(GATEWAY_ROOT, 'test-output')
const TOKEN = 'dashboard-test-token-0123456789'
const SENDER_FILTER = ['[spoofing]', 'action=reject', ''].join('\n')

const f = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  files: { 'inbound/config/gateway-sender-filter.ini': SENDER_FILTER },
  prepare: ({ gw }) => addUser(gw, 'relay', 'relay-password'),
})
let browser: Browser
let dashboard: DashboardProcess
const started: DashboardProcess[] = []

/** The environment `gateway dashboard` runs with: the test gateway's Redis and prefix, the dashboard on `listen`. */
const dashboardEnv = (listen: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...f.gw.env('inbound'), GATEWAY_ROOT: f.gw.root, GATEWAY_DASHBOARD_LISTEN: listen, ...extra })

beforeAll(async () => {
  browser = await launchChromium()
  dashboard = await startDashboardCli(dashboardEnv(`${f.block.ip(20)}:9180`))
  started.push(dashboard)
})
afterAll(async () => {
  await browser?.close()
  for (const d of started) await d.stop()
})

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  await page.goto(url)
  return page
}

/** The exact number an element shows (its data-value). */
async function shown(page: Page, testId: string): Promise<number> {
  const v = await page.getByTestId(testId).getAttribute('data-value')
  return v === null ? NaN : Number(v)
}

/** Waits until the page has rendered a summary of `range` generated after `after` (ISO). */
async function rendered(page: Page, range: string, after = ''): Promise<void> {
  await expect
    .poll(async () => {
      const status = page.getByTestId('status')
      const [r, g] = await Promise.all([status.getAttribute('data-range'), status.getAttribute('data-generated')])
      return r === range && (g ?? '') > after
    }, { timeout: 15_000 })
    .toBe(true)
}

/** The page's numbers and what `gateway report --json` says for the same range, side by side. */
async function pageVsReport(page: Page, r: ReportV1) {
  const onPage = {
    messagesIn: await shown(page, 'messages-in'),
    messagesOut: await shown(page, 'messages-out'),
    bytesIn: await shown(page, 'bytes-in'),
    bytesOut: await shown(page, 'bytes-out'),
    refusedIn: await shown(page, 'refused-in'),
    sessionsRefusedIn: await shown(page, 'sessions-refused-in'),
    recipientsRefusedIn: await shown(page, 'recipients-refused-in'),
    authFailures: await shown(page, 'auth-failures'),
    deliveries: await shown(page, 'deliveries'),
    deferrals: await shown(page, 'deferrals'),
  }
  const report = {
    messagesIn: r.messages.in,
    messagesOut: r.messages.out,
    bytesIn: r.bytes.in,
    bytesOut: r.bytes.out,
    refusedIn: r.totals.inbound.messages_rejected ?? 0,
    sessionsRefusedIn: r.totals.inbound.sessions_rejected ?? 0,
    recipientsRefusedIn: r.totals.inbound.recipients_rejected ?? 0,
    authFailures: r.auth.failures,
    deliveries: r.delivery.inbound.deliveries + r.delivery.outbound.deliveries,
    deferrals: r.delivery.inbound.deferrals + r.delivery.outbound.deferrals,
  }
  return { onPage, report }
}

it('shows "No traffic yet" before any mail', async () => {
  const page = await openPage(dashboard.url)
  await rendered(page, '1h')
  await expect.poll(() => page.getByTestId('no-traffic').isVisible()).toBe(true)
  expect(await shown(page, 'messages-in')).toBe(0)
  expect(await page.getByTestId('no-traffic').textContent()).toContain('No traffic yet')
  await page.close()
})

it('after known traffic shows what `gateway report --json` says, for 1h, 24h and 30d, and the internal host in the link state', async () => {
  const gw = f.gw
  expect((await sendOne(gw, { from: 'a@sender.test', to: ['b@example.com'] })).end?.code).toBe(250)
  expect((await sendOne(gw, { from: 'c@sender.test', to: ['b@example.com'] })).end?.code).toBe(250)
  expect((await sendOne(gw, { from: 'ceo@example.com', to: ['b@example.com'] })).mail.code).toBe(550) // spoofing: refused at MAIL
  const { client } = await gw.connect('outbound')
  await client.ehlo('app1.corp.example')
  await client.startTls()
  await client.ehlo('app1.corp.example')
  expect((await client.send(`AUTH PLAIN ${base64('\0relay\0wrong-password')}`)).code).toBe(535)
  await client.quit()
  expect((await relayOne(gw, { user: 'relay', password: 'relay-password', from: 'relay@example.com', to: ['x@partner.test'] })).end?.code).toBe(250)
  const r1h = await waitForReport(gw, ['--since', '1h'], (x) => x.delivery.inbound.deliveries === 2 && x.delivery.outbound.deliveries === 1 && x.auth.failures === 1)

  const page = await openPage(dashboard.url)
  await rendered(page, '1h')
  const first = await pageVsReport(page, r1h)
  expect(first.onPage).toEqual(first.report)
  expect(first.onPage).toMatchObject({ messagesIn: 2, messagesOut: 1, authFailures: 1, deliveries: 3 })
  expect(first.onPage.bytesIn).toBeGreaterThan(0)
  expect(await page.getByTestId('no-traffic').isVisible()).toBe(false)
  // refusals by check and filter ROI, as the report has them
  const rejectRows = await page.getByTestId('reject-table').locator('tbody tr').allTextContents()
  expect(rejectRows.join('\n')).toContain('sender-spoofing')
  expect(await page.getByTestId('filter-table').locator('tbody tr').count()).toBe(r1h.filters.length)

  for (const range of ['24h', '30d'] as const) {
    const before = (await page.getByTestId('status').getAttribute('data-generated')) ?? ''
    await page.getByTestId(`range-${range}`).click()
    await rendered(page, range, range === '24h' ? '' : before)
    const { onPage, report } = await pageVsReport(page, reportJson(gw, ['--since', range]))
    expect(onPage, range).toEqual(report)
    expect(onPage, range).toEqual(first.onPage) // all of it happened within the hour
  }

  // the internal mail server (the sink) got the two messages: its link is listed, ok
  const row = page.locator(`[data-testid="link-row"][data-destination="${f.internal.address}"]`)
  await expect.poll(() => row.count()).toBe(1)
  expect(await row.getAttribute('data-state')).toBe('ok')
  await page.close()
})

it('refreshes live: one more message appears without a page reload; screenshot saved', async () => {
  const page = await openPage(dashboard.url)
  await rendered(page, '1h')
  await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }))
  const before = await shown(page, 'messages-in')
  expect((await sendOne(f.gw, { from: 'late@sender.test', to: ['b@example.com'] })).end?.code).toBe(250)
  await expect.poll(() => shown(page, 'messages-in'), { timeout: 20_000 }).toBe(before + 1)
  expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true)
  await waitForReport(f.gw, ['--since', '1h'], (x) => x.delivery.inbound.deliveries === 3)
  fs.mkdirSync(OUTPUT_DIR, { recursive: true })
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'dashboard.png'), fullPage: true })
  expect(fs.statSync(path.join(OUTPUT_DIR, 'dashboard.png')).size).toBeGreaterThan(10_000)
  await page.close()
})

it('with a token: 401 without it, in with Bearer or ?token= once (a cookie), never logged', async () => {
  const guarded = await startDashboardCli(dashboardEnv(`${f.block.ip(21)}:9180`, { GATEWAY_DASHBOARD_TOKEN: TOKEN }))
  started.push(guarded)
  expect(guarded.output()).toContain('token required')
  expect((await fetch(guarded.url)).status).toBe(401)
  expect((await fetch(`${guarded.url}api/summary?range=1h`)).status).toBe(401)
  const api = await fetch(`${guarded.url}api/summary?range=1h`, { headers: { authorization: `Bearer ${TOKEN}` } })
  expect(api.status).toBe(200)
  expect(((await api.json()) as { messages: { in: number } }).messages.in).toBeGreaterThan(0)

  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } })
  const page = await context.newPage()
  await page.goto(`${guarded.url}?token=${TOKEN}`)
  expect(page.url()).not.toContain(TOKEN) // the token left the address bar (and history)
  expect(page.url().startsWith(guarded.url)).toBe(true)
  await rendered(page, '1h')
  expect(await shown(page, 'messages-in')).toBeGreaterThan(0)
  await context.close()
  expect(guarded.output()).not.toContain(TOKEN)
})

it('refuses a non-loopback address without a token (file and key named, exit 78) and an address in use (exit 69)', () => {
  const root = makeDeploymentRoot({ 'config/gateway.ini': '[internal]\nhosts[]=127.0.0.1:2526\n[dashboard]\nlisten=0.0.0.0:9181\n' })
  try {
    const exposed = dashboardRefused({ ...f.gw.env('inbound'), GATEWAY_ROOT: root })
    expect(exposed.status).toBe(78)
    expect(exposed.stderr).toContain(`${path.join(root, 'config', 'gateway.ini')}: [dashboard] listen: 0.0.0.0:9181 is not a loopback address: set [dashboard] token`)
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  const taken = dashboardRefused(dashboardEnv(`${f.block.ip(20)}:9180`))
  expect(taken.status).toBe(69)
  expect(taken.stderr).toBe(`gateway: cannot listen on ${f.block.ip(20)}:9180 (dashboard, environment variable GATEWAY_DASHBOARD_LISTEN): address already in use (another process listens there)\n`)
})

it('loads a month of hour buckets quickly (time logged, not asserted): one request, totals exact', async () => {
  const prefix = `gwdashmonth${process.pid}x${Math.floor(Math.random() * 1e9)}`
  const keys = new RedisKeys(prefix)
  const redis = new Redis(inject('redisUrl'))
  const now = Date.now()
  let expected = 0
  const written: string[] = [keys.nodes()]
  try {
    const pipeline = redis.pipeline()
    for (const node of ['gw1', 'gw2']) {
      pipeline.sadd(keys.nodes(), node)
      for (let h = 0; h < 30 * 24 - 1; h++) {
        const bucket = bucketOf('h', now - h * 3_600_000)
        const messages = 1 + (h % 7)
        expected += messages
        written.push(keys.bucket('h', 'inbound', node, bucket), keys.bucket('h', 'outbound', node, bucket))
        pipeline.hset(written.at(-2)!, { messages_accepted: messages, bytes_accepted: messages * 4000, connections: messages + 1 })
        pipeline.hset(written.at(-1)!, { messages_accepted: 1, bytes_accepted: 2500 })
      }
    }
    await pipeline.exec()
    const month = await startDashboardCli({ ...dashboardEnv(`${f.block.ip(22)}:9180`), GATEWAY_REDIS_PREFIX: prefix })
    started.push(month)
    const apiStart = performance.now()
    const api = await fetch(`${month.url}api/summary?range=30d`)
    expect(api.status).toBe(200)
    const apiBytes = (await api.arrayBuffer()).byteLength
    const apiMs = performance.now() - apiStart
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
    const requests: string[] = []
    page.on('request', (req) => requests.push(new URL(req.url()).pathname))
    const t0 = performance.now()
    await page.goto(`${month.url}#30d`)
    await rendered(page, '30d')
    const ms = performance.now() - t0
    const inPage = await page.getByTestId('status').getAttribute('data-first-render-ms')
    // browser timing entries (typed here without the DOM library)
    type Timing = { name: string; startTime: number; responseEnd?: number; domContentLoadedEventEnd?: number }
    const timings = await page.evaluate(() => {
      const perf = performance as unknown as { getEntriesByType(type: string): Timing[] }
      const nav = perf.getEntriesByType('navigation')[0]
      const api = perf.getEntriesByType('resource').find((e) => e.name.includes('/api/summary'))
      return {
        domContentLoaded: Math.round(nav?.domContentLoadedEventEnd ?? -1),
        apiStart: Math.round(api?.startTime ?? -1),
        apiEnd: Math.round(api?.responseEnd ?? -1),
        files: perf.getEntriesByType('resource').map((e) => `${e.name.replace(/^https?:\/\/[^/]+/, '')} ${Math.round(e.startTime)}..${Math.round(e.responseEnd ?? -1)}`).join(', '),
        page: `${Math.round((nav as unknown as { responseStart: number }).responseStart)}..${Math.round(nav?.responseEnd ?? -1)}`,
      }
    })
    console.log(
      `dashboard: a month of hour buckets (2 nodes, ${30 * 24 - 1} hours, 2 instances): /api/summary?range=30d alone ${apiMs.toFixed(0)} ms (${apiBytes} bytes, cold); page loaded, fetched and drawn ${inPage} ms after navigation start (${ms.toFixed(0)} ms as the test driver saw it; in the page: DOMContentLoaded ${timings.domContentLoaded} ms, /api/summary ${timings.apiStart}..${timings.apiEnd} ms; page ${timings.page}; ${timings.files})`,
    )
    expect(await shown(page, 'messages-in')).toBe(expected)
    expect(requests.filter((p) => p.startsWith('/api/'))).toEqual(['/api/summary'])
    await page.close()
  } finally {
    await redis.del(...written)
    redis.disconnect()
  }
})

it('`gateway start` serves it in-process, prints it in the banner, and stops it on Ctrl-C', async () => {
  const block = addressBlock()
  const at = `${block.ip(23)}:9180`
  const root = makeDeploymentRoot({
    'config/gateway.ini': `[internal]\nhosts[]=${f.internal.address}\n[dashboard]\nlisten=${at}\n`,
  })
  const { NODE_ENV: _n, VITEST: _v, ...inherited } = process.env
  const child = spawn(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'start'], {
    env: {
      ...inherited,
      GATEWAY_ROOT: root,
      REDIS_URL: inject('redisUrl'),
      GATEWAY_REDIS_PREFIX: `gwdashstart${process.pid}`,
      GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`,
      GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587`,
      GATEWAY_DNS_SERVERS: f.dns.address,
      RSPAMD_BIN: '/nonexistent/rspamd',
      CLAMD_BIN: '/nonexistent/clamd',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log: string[] = []
  child.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  try {
    await waitForMatch(() => log.join(''), /Edge SMTP gateway is running[^]*Stop:/, { timeoutMs: 60_000, where: 'gateway start output' })
    expect(log.join('')).toContain(`\n  dashboard http://${at}/\n`)
    // a Redis read that times out on a loaded machine answers 503 (the page retries): so does the test
    const body = await vi.waitFor(
      async () => {
        const r = await fetch(`http://${at}/api/summary?range=24h`)
        expect(r.status).toBe(200)
        return (await r.json()) as { version: number; range: { name: string } }
      },
      { timeout: 30_000, interval: 500 },
    )
    expect(body.range.name).toBe('24h')
  } finally {
    child.kill('SIGINT')
    expect(await exit).toBe(0)
    fs.rmSync(root, { recursive: true, force: true })
  }
  await expect(fetch(`http://${at}/`)).rejects.toThrow()
}, 90_000)
