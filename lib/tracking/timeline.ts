// What `gateway track` shows: the records of one message at both instances,
// grouped (same Message-ID, or the outbound record's linked inbound record),
// ordered (inbound leg first, then by time), and told as a timeline of events
// plus one summary line per leg, e.g.
//   Internet 203.0.113.5 → inbound node1 (checks: spf=pass) → queued → delivered to internal 10.0.0.5:25 (250 ok)
// and the --json form (TRACK_JSON_VERSION). Pure: unit-tested without Redis.

import { canonicalMessageId } from './canonical'
import type { TrackEvent } from './event'
import type { LoadedRecord } from './query'
import type { TrackRecord } from './record'

export const TRACK_JSON_VERSION = 1

export interface Leg {
  readonly id: string
  readonly loaded: LoadedRecord
}

export interface MessageGroup {
  /** The message's Message-ID (as first recorded), or null. */
  readonly messageId: string | null
  readonly legs: readonly Leg[]
}

const recordOf = (l: Leg): TrackRecord | undefined => (l.loaded.reading.kind === 'ok' ? l.loaded.reading.record : undefined)

/** Groups records into messages; groups are ordered by their first record's time. */
export function groupMessages(loaded: ReadonlyMap<string, LoadedRecord>): MessageGroup[] {
  const parent = new Map<string, string>()
  const find = (id: string): string => {
    let p = parent.get(id) ?? id
    while (p !== (parent.get(p) ?? p)) p = parent.get(p) ?? p
    parent.set(id, p)
    return p
  }
  const union = (a: string, b: string) => {
    const ra = find(a)
    const rb = find(b)
    if (ra !== rb) parent.set(rb, ra)
  }
  const byMid = new Map<string, string>()
  for (const [id, l] of loaded) {
    parent.set(id, find(id))
    const r = l.reading.kind === 'ok' ? l.reading.record : undefined
    if (!r) continue
    if (r.inboundRecordId && loaded.has(r.inboundRecordId)) union(r.inboundRecordId, id)
    const mid = r.messageId ? canonicalMessageId(r.messageId) : undefined
    if (!mid) continue
    const seen = byMid.get(mid)
    if (seen) union(seen, id)
    else byMid.set(mid, id)
  }
  const groups = new Map<string, Leg[]>()
  for (const [id, l] of loaded) {
    const root = find(id)
    groups.set(root, [...(groups.get(root) ?? []), { id, loaded: l }])
  }
  const out = [...groups.values()].map((legs) => {
    const sorted = [...legs].sort(compareLegs)
    const first = sorted.map(recordOf).find((r) => r?.messageId)
    return { messageId: first?.messageId ?? null, legs: sorted }
  })
  return out.sort((a, b) => compareLegs(a.legs[0]!, b.legs[0]!))
}

function legTime(l: Leg): number {
  const r = recordOf(l)
  if (r) return r.time
  const e = l.loaded.events[0]
  return e ? Date.parse(e.time) : Number.MAX_SAFE_INTEGER
}

function compareLegs(a: Leg, b: Leg): number {
  const ra = recordOf(a)
  const rb = recordOf(b)
  if (ra && rb && ra.instance !== rb.instance) return ra.instance === 'inbound' ? -1 : 1
  return legTime(a) - legTime(b) || a.id.localeCompare(b.id)
}

/** "pass (example.com)" -> "pass"; none when not checked. */
const word = (r: string | null) => (r ? r.split(' ')[0]! : 'none')

const TIMES = ['', 'once', 'twice']
const times = (n: number) => TIMES[n] ?? `${n} times`
const clip = (s: string, n = 80) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)

/** One line: where the message came from, what the instance decided and what became of it. */
export function summaryLine(r: TrackRecord, events: readonly TrackEvent[]): string {
  const parts: string[] = []
  const origin = r.instance === 'inbound' ? `Internet ${r.client.ip}` : `internal ${r.client.ip}${r.auth ? ` (${r.auth})` : ''}`
  const auth = r.senderAuth
    ? [`spf=${word(r.senderAuth.spf)}`, `dkim=${r.senderAuth.dkim.length ? r.senderAuth.dkim.map(word).join(',') : 'none'}`, `dmarc=${word(r.senderAuth.dmarc)}`]
    : []
  const decided = r.checks.map((c) => `${c.check}=${c.result}${c.action === 'accept' ? '' : `/${c.action}`}`)
  const checks = auth.length + decided.length ? ` (checks: ${[...auth, ...decided].join(' ')})` : ''
  parts.push(origin, `${r.instance} ${r.node}${checks}`)
  if (r.status === 'rejected') {
    const rej = [...events].reverse().find((e) => e.type === 'REJECT')
    parts.push(`${r.action === 'tempfail' ? 'temporarily refused' : 'rejected'}${rej?.check ? ` by ${rej.check}` : ''}${r.reply ? ` (${clip(r.reply)})` : ''}`)
    return parts.join(' → ')
  }
  if (r.status === 'quarantined') parts.push(`quarantined${r.quarantineId ? ` as ${r.quarantineId}` : ''}`)
  const release = events.find((e) => e.type === 'RELEASE')
  if (release) parts.push(`released${release.by ? ` by ${release.by}` : ''}`)
  if (r.status === 'accepted' || release) parts.push('queued')
  const where = r.instance === 'inbound' ? 'internal' : 'remote'
  const defers = events.filter((e) => e.type === 'DEFER')
  const outcome: string[] = []
  if (defers.length) outcome.push(`deferred ${times(defers.length)}${defers.at(-1)?.reply ? ` (${clip(defers.at(-1)!.reply!, 60)})` : ''}`)
  for (const e of events) {
    if (e.type === 'DELIVER') outcome.push(`delivered to ${where} ${e.host ?? e.destination ?? ''} (${clip(e.reply ?? '', 60)})`)
    if (e.type === 'BOUNCE') outcome.push(`bounced (${clip(e.reply ?? '', 60)})`)
    if (e.type === 'DSN-SENT') outcome.push(`DSN sent to ${e.dsnTo ?? 'the sender'}`)
  }
  if (outcome.length) parts.push(outcome.join(', '))
  else if (r.status === 'accepted' || release) parts.push('waiting for delivery')
  return parts.join(' → ')
}

function eventLine(e: TrackEvent): string {
  const bits: string[] = []
  if (e.queueId) bits.push(`queue ${e.queueId}`)
  if (e.destination) bits.push(`to ${e.destination}`)
  if (e.host) bits.push(`via ${e.host}`)
  if (e.check) bits.push(`check ${e.check}`)
  if (e.quarantineId) bits.push(`quarantine ${e.quarantineId}`)
  if (e.by) bits.push(`by ${e.by}`)
  if (e.recipients?.length) bits.push(`rcpt ${e.recipients.join(',')}`)
  if (e.dsnTo) bits.push(`DSN to ${e.dsnTo}`)
  if (e.tls !== undefined) bits.push(e.tls ? 'TLS' : 'no TLS')
  if (e.nextAttempt) bits.push(`next attempt ${e.nextAttempt}`)
  if (e.reply) bits.push(`"${clip(e.reply, 120)}"`)
  return `    ${e.time}  ${e.type.padEnd(10)} ${e.instance}@${e.node}  ${bits.join('  ')}`.trimEnd()
}

/** The readable form of one message. */
export function formatGroup(g: MessageGroup): string[] {
  const first = g.legs.map(recordOf).find(Boolean)
  const lines = [`Message ${g.messageId ?? '(no Message-ID)'}${first ? `  from <${first.from ?? ''}> to ${first.to.map((a) => `<${a}>`).join(', ') || '(none)'}` : ''}`]
  for (const leg of g.legs) {
    const { reading, events, eventsMissing } = leg.loaded
    if (reading.kind === 'corrupt') lines.push(`  record ${leg.id}: INVALID (corrupt: ${reading.why}); not shown`)
    else if (reading.kind === 'unknown-version') lines.push(`  record ${leg.id}: INVALID (unknown schema version ${JSON.stringify(reading.version)}); not shown`)
    else if (reading.kind === 'missing') lines.push(`  record ${leg.id}: expired or not written yet`)
    else {
      const r = reading.record
      const tls = r.tls ? `, TLS ${r.tls.protocol}` : ''
      lines.push(`  ${r.instance} leg: record ${r.id} on ${r.node}, ${new Date(r.time).toISOString()}, ${r.status}${r.size !== null ? `, ${r.size} bytes` : ''}${tls}`)
      lines.push(`    ${summaryLine(r, events)}`)
    }
    for (const e of events) lines.push(eventLine(e))
    if (eventsMissing) lines.push(`    (${eventsMissing} more event(s) no longer in the events stream)`)
  }
  return lines
}

/** The --json document (stable schema, TRACK_JSON_VERSION). */
export function jsonDocument(groups: readonly MessageGroup[]): unknown {
  return {
    version: TRACK_JSON_VERSION,
    messages: groups.map((g) => ({
      messageId: g.messageId,
      records: g.legs.map((l) => {
        const r = l.loaded.reading
        return {
          id: l.id,
          valid: r.kind === 'ok',
          problem: r.kind === 'ok' ? null : r.kind === 'corrupt' ? `corrupt: ${r.why}` : r.kind === 'unknown-version' ? `unknown version ${JSON.stringify(r.version)}` : 'missing',
          record: r.kind === 'ok' ? r.record : null,
          summary: r.kind === 'ok' ? summaryLine(r.record, l.loaded.events) : null,
          events: l.loaded.events,
          eventsMissing: l.loaded.eventsMissing,
        }
      }),
    })),
  }
}
