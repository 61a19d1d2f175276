// How `gateway links` shows link states: the order (failing first, then most
// waiting, then by name), the aligned text table with times relative to `now`,
// and the JSON document (schema version 1, absolute ISO times), all pure.

import { consecutiveFailures, type LinkState } from './fields'

/** Failing first (consecutive failures > 0), then the most waiting, then instance and destination. */
export function sortLinks(states: readonly LinkState[]): LinkState[] {
  return [...states].sort(
    (a, b) =>
      Number(consecutiveFailures(b) > 0) - Number(consecutiveFailures(a) > 0) ||
      b.waiting - a.waiting ||
      a.instance.localeCompare(b.instance) ||
      a.destination.localeCompare(b.destination),
  )
}

export function stateOf(s: LinkState): 'ok' | 'FAILING' {
  return consecutiveFailures(s) > 0 ? 'FAILING' : 'ok'
}

/** "now", "45s ago", "3m ago", "2h ago", "5d ago" (a clock a little ahead reads as "now"). */
export function ago(at: number, now: number): string {
  return `${age(at, now)} ago`.replace(/^now ago$/, 'now')
}

/** A duration as its largest unit: "now", "45s", "3m", "2h", "5d". */
export function age(at: number, now: number): string {
  const s = Math.floor((now - at) / 1000)
  if (s < 1) return 'now'
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86_400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}

export const REPLY_COLUMN_CHARS = 60

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}

const HEADER = ['INSTANCE', 'DESTINATION', 'STATE', 'FAILURES', 'LAST SUCCESS', 'LAST FAILURE', 'WAITING', 'OLDEST', 'TLS'] as const

/** The rows of the text table (header first), not yet aligned. */
export function tableRows(states: readonly LinkState[], now: number): string[][] {
  const rows = sortLinks(states).map((s) => [
    s.instance,
    s.destination,
    stateOf(s),
    String(consecutiveFailures(s)),
    s.lastSuccess ? ago(s.lastSuccess.at, now) : 'never',
    s.lastFailure ? `${ago(s.lastFailure.at, now)}: ${truncate(`${s.lastFailure.source === 'probe' ? 'probe: ' : ''}${s.lastFailure.reply}`, REPLY_COLUMN_CHARS)}` : '-',
    String(s.waiting),
    s.oldestWaiting === null ? '-' : age(s.oldestWaiting, now),
    s.lastSuccess ? (s.lastSuccess.tls ? 'yes' : 'no') : '-',
  ])
  return [[...HEADER], ...rows]
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n')
}

export function formatTable(states: readonly LinkState[], now: number): string {
  return alignColumns(tableRows(states, now))
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString())

/** One link in the --json document (schema version 1; see README "gateway links --json"). */
export interface LinkJson {
  instance: 'inbound' | 'outbound'
  destination: string
  state: 'ok' | 'failing'
  consecutiveFailures: number
  deliveryFailures: number
  probeFailures: number
  lastSuccess: { at: string; host: string; reply: string; tls: boolean } | null
  lastFailure: { at: string; reply: string; source: 'delivery' | 'probe' } | null
  lastBounce: { at: string; reply: string } | null
  lastProbe: { at: string; ok: boolean; reply: string } | null
  waiting: number
  oldestWaiting: string | null
  tls: boolean | null
  node: string | null
  updatedAt: string | null
}

export interface LinksJson {
  version: 1
  generatedAt: string
  links: LinkJson[]
}

export function toJson(states: readonly LinkState[], now: number): LinksJson {
  return {
    version: 1,
    generatedAt: new Date(now).toISOString(),
    links: sortLinks(states).map((s) => ({
      instance: s.instance,
      destination: s.destination,
      state: consecutiveFailures(s) > 0 ? 'failing' : 'ok',
      consecutiveFailures: consecutiveFailures(s),
      deliveryFailures: s.deliveryFailures,
      probeFailures: s.probeFailures,
      lastSuccess: s.lastSuccess && { ...s.lastSuccess, at: iso(s.lastSuccess.at)! },
      lastFailure: s.lastFailure && { ...s.lastFailure, at: iso(s.lastFailure.at)! },
      lastBounce: s.lastBounce && { ...s.lastBounce, at: iso(s.lastBounce.at)! },
      lastProbe: s.lastProbe && { ...s.lastProbe, at: iso(s.lastProbe.at)! },
      waiting: s.waiting,
      oldestWaiting: iso(s.oldestWaiting),
      tls: s.lastSuccess ? s.lastSuccess.tls : null,
      node: s.node,
      updatedAt: iso(s.updatedAt),
    })),
  }
}
