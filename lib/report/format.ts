// The report as people read it (aligned tables, totals, percentages) and as CSV
// (one value per line: section, instance, name, bucket, value) for spreadsheets.
// The queue depth is a sample, shown apart from the counters.

import type { Direction } from '../redis/keys'
import { SCL_BANDS, STAT } from '../stats/fields'
import type { Counters, ReportV1 } from './model'
import { humanBytes, humanSeconds, percent, table, type Cell } from './table'

const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound']
const n = (c: Counters, field: string) => c[field] ?? 0
const fixed = (x: number | null) => (x === null ? '-' : x.toFixed(2))

/** A row per counter: inbound, outbound, total. */
function perInstance(r: ReportV1, rows: readonly [label: string, field: string][]): Cell[][] {
  return rows.map(([label, field]) => {
    const i = n(r.totals.inbound, field)
    const o = n(r.totals.outbound, field)
    return [label, i, o, i + o]
  })
}

/** Queue rows (samples, not counters: '-' without a sample; maxima of both instances are not added up, the oldest of both is the older). */
function queueRows(r: ReportV1): Cell[][] {
  const v = (x: number | null): Cell => x ?? '-'
  const age = (x: number | null): Cell => (x === null ? '-' : humanSeconds(x))
  const older = (a: number | null, b: number | null): Cell => (a === null && b === null ? '-' : humanSeconds(Math.max(a ?? 0, b ?? 0)))
  const { inbound: i, outbound: o } = r.queue
  const depthTotal = i.depth === null && o.depth === null ? '-' : (i.depth ?? 0) + (o.depth ?? 0)
  return [
    ['queue depth at end (sampled)', v(i.depth), v(o.depth), depthTotal],
    ['queue depth max (sampled)', v(i.depth_max), v(o.depth_max), '-'],
    ['oldest queued at end (sampled)', age(i.oldest_seconds), age(o.oldest_seconds), older(i.oldest_seconds, o.oldest_seconds)],
    ['oldest queued max (sampled)', age(i.oldest_seconds_max), age(o.oldest_seconds_max), older(i.oldest_seconds_max, o.oldest_seconds_max)],
  ]
}

export function formatText(r: ReportV1): string {
  const out: string[] = []
  const section = (title: string, lines: string[]) => out.push('', title, ...lines.map((l) => `  ${l}`))
  out.push(`Gateway report ${r.range.since} .. ${r.range.until} (per-${r.range.granularity} counters; nodes: ${r.nodes.length ? r.nodes.join(', ') : 'none'})`)

  const offered = (d: Direction) => n(r.totals[d], STAT.messagesAccepted) + n(r.totals[d], STAT.messagesRejected) + n(r.totals[d], STAT.messagesTempfailed)
  section('Traffic (inbound = in from the Internet, outbound = out to it)', [
    ...table(['', 'inbound', 'outbound', 'total'], [
      ...perInstance(r, [
        ['connections', STAT.connections],
        ['sessions refused', STAT.sessionsRejected],
        ['messages accepted', STAT.messagesAccepted],
        ['messages refused', STAT.messagesRejected],
        ['messages tempfailed', STAT.messagesTempfailed],
        ['recipients accepted', STAT.recipientsAccepted],
        ['recipients refused', STAT.recipientsRejected],
        ['recipients tempfailed', STAT.recipientsTempfailed],
        ['bytes accepted', STAT.bytesAccepted],
        ['quarantined', STAT.quarantined],
        ['released', STAT.released],
      ]),
      ['messages refused %', percent(n(r.totals.inbound, STAT.messagesRejected), offered('inbound')), percent(n(r.totals.outbound, STAT.messagesRejected), offered('outbound')), percent(n(r.totals.inbound, STAT.messagesRejected) + n(r.totals.outbound, STAT.messagesRejected), offered('inbound') + offered('outbound'))],
      [`peak messages per ${r.peak.per}`, r.peak.inbound.messages, r.peak.outbound.messages, '-'],
      ['peak at', r.peak.inbound.at ?? '-', r.peak.outbound.at ?? '-', '-'],
    ]),
    `in / out: messages ${r.messages.in} / ${r.messages.out} = ${fixed(r.messages.in_per_out)}, bytes ${humanBytes(r.bytes.in)} / ${humanBytes(r.bytes.out)} = ${fixed(r.bytes.in_per_out)}`,
  ])

  section('Delivery', table(['', 'inbound', 'outbound', 'total'], [
    ...perInstance(r, [
      ['deliveries', STAT.deliveries],
      ['bytes delivered', STAT.bytesDelivered],
      ['deferrals', STAT.deferrals],
      ['bounces', STAT.bounces],
    ]),
    ...queueRows(r),
  ]))

  section(`Spam and viruses (spam share: ${r.spam.scanned ? percent(r.spam.spam, r.spam.scanned) : '-'} of ${r.spam.scanned} scanned scored SCL 5 or more)`, [
    ...table(['SCL', 'messages', 'share'], [...SCL_BANDS.map((b) => [b, r.spam.bands[b], percent(r.spam.bands[b], r.spam.scanned)] as Cell[]), ['total', r.spam.scanned, percent(r.spam.scanned, r.spam.scanned)]]),
    `viruses: ${r.viruses}`,
  ])

  section('AUTH (outbound relay)', [`successes ${r.auth.successes}, failures ${r.auth.failures}, lockouts ${r.auth.lockouts}`])

  const reasonsTotal = r.reject_reasons.reduce((s, x) => s + x.count, 0)
  section('Top reject reasons (check decisions that refused a recipient, message or session)', r.reject_reasons.length === 0
    ? ['none']
    : table(['instance', 'check', 'action', 'count', 'share'], [...r.reject_reasons.map((x) => [x.instance, x.check, x.action, x.count, percent(x.count, reasonsTotal)]), ['total', '', '', reasonsTotal, percent(reasonsTotal, reasonsTotal)]]))

  const stopped = (d: Direction) => r.filters.filter((f) => f.instance === d).reduce((s, f) => s + f.first, 0) + r.unattributed[d]
  section('Filters: refused or quarantined messages (first: decided it; only: no other check would have; also: would have, after another decided)', r.filters.length === 0
    ? ['none']
    : [
        ...table(['instance', 'check', 'first', 'only', 'also', 'share of first', ''], [
          ...r.filters.map((f) => [f.instance, f.check, f.first, f.only, f.also, percent(f.first, stopped(f.instance)), f.only === 0 ? 'never alone' : '']),
          ...DIRECTIONS.filter((d) => r.unattributed[d] > 0).map((d) => [d, '(no recorded check)', r.unattributed[d], '-', '-', percent(r.unattributed[d], stopped(d)), '']),
        ]),
        'checks after the refusing one never ran: "only" and "also" know the checks that ran before it',
      ])

  const dayRow = (label: string, i: Counters, o: Counters): Cell[] => [
    label,
    n(i, STAT.messagesAccepted),
    n(i, STAT.messagesRejected),
    n(i, STAT.recipientsRejected),
    n(o, STAT.messagesAccepted),
    n(i, STAT.deliveries) + n(o, STAT.deliveries),
    n(i, STAT.deferrals) + n(o, STAT.deferrals),
    n(i, STAT.bounces) + n(o, STAT.bounces),
  ]
  const sum = (d: Direction) => r.days.reduce<Counters>((acc, day) => {
    for (const [k, v] of Object.entries(day[d])) acc[k] = (acc[k] ?? 0) + v
    return acc
  }, {})
  section('Per day (whole UTC days)', table(['day', 'in accepted', 'in refused', 'in rcpt refused', 'out accepted', 'deliveries', 'deferrals', 'bounces'], [
    ...r.days.map((d) => dayRow(d.day, d.inbound, d.outbound)),
    dayRow('total', sum('inbound'), sum('outbound')),
  ]))
  return `${out.join('\n')}\n`
}

const csvCell = (v: string | number) => (typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)

/** One line per value: section,instance,name,bucket,value. */
export function formatCsv(r: ReportV1): string {
  const lines: (string | number)[][] = [['section', 'instance', 'name', 'bucket', 'value']]
  for (const d of DIRECTIONS) for (const [k, v] of Object.entries(r.totals[d]).sort(([a], [b]) => a.localeCompare(b))) lines.push(['total', d, k, '', v])
  for (const d of DIRECTIONS) {
    const q = r.queue[d]
    if (q.depth !== null) lines.push(['queue', d, 'depth', '', q.depth])
    if (q.depth_max !== null) lines.push(['queue', d, 'depth_max', '', q.depth_max])
    if (q.oldest_seconds !== null) lines.push(['queue', d, 'oldest_seconds', '', q.oldest_seconds])
    if (q.oldest_seconds_max !== null) lines.push(['queue', d, 'oldest_seconds_max', '', q.oldest_seconds_max])
  }
  for (const d of DIRECTIONS) if (r.peak[d].at) lines.push(['peak', d, `messages_per_${r.peak.per}`, r.peak[d].at!, r.peak[d].messages])
  for (const f of r.filters) {
    lines.push(['filter', f.instance, `${f.check}:first`, '', f.first], ['filter', f.instance, `${f.check}:only`, '', f.only], ['filter', f.instance, `${f.check}:also`, '', f.also])
  }
  for (const day of r.days) for (const d of DIRECTIONS) for (const [k, v] of Object.entries(day[d]).sort(([a], [b]) => a.localeCompare(b))) lines.push(['day', d, k, day.day, v])
  return `${lines.map((l) => l.map(csvCell).join(',')).join('\n')}\n`
}
