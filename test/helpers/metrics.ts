// The Prometheus endpoint as a test reads it: each test gateway's endpoints on
// its own loopback addresses (gateway-metrics.ini per instance), a scrape, and
// the value of one series in the text format.

import type { AddressBlock } from './net'

/** Where a test gateway's endpoints listen: the instance's own address, ports 9125 (inbound) and 9126 (outbound). */
export function metricsAddresses(block: AddressBlock): { inbound: string; outbound: string } {
  return { inbound: `${block.ip(1)}:9125`, outbound: `${block.ip(2)}:9126` }
}

/** gateway-metrics.ini of both instances on the block's addresses (the shipped 127.0.0.1 ports would collide between tests). */
export function metricsFiles(block: AddressBlock, extra = ''): Record<string, string> {
  const at = metricsAddresses(block)
  return {
    'inbound/config/gateway-metrics.ini': `[http]\nlisten=${at.inbound}\n${extra}`,
    'outbound/config/gateway-metrics.ini': `[http]\nlisten=${at.outbound}\n${extra}`,
  }
}

export interface Scrape {
  status: number
  contentType: string | null
  body: string
}

export async function scrape(address: string, opts: { path?: string; token?: string; method?: string } = {}): Promise<Scrape> {
  const r = await fetch(`http://${address}${opts.path ?? '/metrics'}`, {
    method: opts.method ?? 'GET',
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    signal: AbortSignal.timeout(10_000),
  })
  return { status: r.status, contentType: r.headers.get('content-type'), body: await r.text() }
}

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Every sample of the text format (comments skipped). */
export function samples(body: string): Sample[] {
  const out: Sample[] = []
  for (const line of body.split('\n')) {
    const m = LINE.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!
    out.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return out
}

/**
 * The value of the series `name` whose labels are exactly `labels` plus the
 * default labels instance and node; undefined if the scrape has no such series.
 */
export function valueOf(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
  const hit = samples(body).find((s) => {
    if (s.name !== name) return false
    const own = Object.keys(s.labels).filter((k) => k !== 'instance' && k !== 'node')
    return own.length === want.length && want.every(([k, v]) => s.labels[k] === v)
  })
  return hit?.value
}

/** The gateway's own counters (gateway_*_total), non-zero ones only, as "name{labels}" -> value. */
export function gatewayCounters(body: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of samples(body)) {
    if (!s.name.startsWith('gateway_') || !s.name.endsWith('_total') || s.value === 0) continue
    out.set(seriesKey(s.name, s.labels), s.value)
  }
  return out
}

/** "name{k=v,...}" with the default labels left out and the rest sorted. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const own = Object.entries(labels)
    .filter(([k]) => k !== 'instance' && k !== 'node')
    .sort(([a], [b]) => a.localeCompare(b))
  return `${name}{${own.map(([k, v]) => `${k}=${v}`).join(',')}}`
}
