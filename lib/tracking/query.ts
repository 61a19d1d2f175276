// The reading side of tracking for `gateway track`: finds record ids through the
// search indexes (sorted sets by Message-ID, address, client IP and time; never
// SCAN or KEYS), intersects the filters, widens the result to every leg of the
// same messages (same Message-ID, or an outbound record's linked inbound record)
// and loads records and their events (by stream id from each record's list).

import type Redis from 'ioredis'

import type { RedisKeys } from '../redis/keys'
import { canonicalMessageId, indexAddress, messageIdDigest } from './canonical'
import { parseEvent, type TrackEvent } from './event'
import { parseRecord, type RecordReading } from './record'

export interface TrackFilters {
  readonly messageId?: string
  readonly from?: string
  readonly to?: string
  readonly clientIp?: string
  /** ms since the epoch, inclusive. */
  readonly since?: number
  readonly until?: number
  /** Most records matched (the most recent ones). */
  readonly limit: number
}

export interface LoadedRecord {
  readonly reading: RecordReading
  readonly events: TrackEvent[]
  /** Events listed for the record but no longer in the stream (trimmed) or unreadable. */
  readonly eventsMissing: number
}

const range = (f: TrackFilters): [string, string] => [f.since === undefined ? '-inf' : String(f.since), f.until === undefined ? '+inf' : String(f.until)]

/** The record ids matching every filter, most recent first. */
export async function findRecordIds(redis: Redis, keys: RedisKeys, f: TrackFilters): Promise<string[]> {
  const [min, max] = range(f)
  const indexes: string[] = []
  if (f.messageId !== undefined) {
    const d = messageIdDigest(f.messageId)
    if (!d) return []
    indexes.push(keys.recordsByMessageId(d))
  }
  for (const a of [f.from, f.to]) {
    if (a === undefined) continue
    const canonical = indexAddress(a)
    if (!canonical) return []
    indexes.push(keys.recordsByAddress(canonical))
  }
  if (f.clientIp !== undefined) indexes.push(keys.recordsByClientIp(f.clientIp.trim()))
  if (indexes.length === 0) return redis.zrevrangebyscore(keys.recordsByTime(), max, min, 'LIMIT', 0, f.limit)
  const lists = await Promise.all(indexes.map((k) => redis.zrevrangebyscore(k, max, min)))
  const [first, ...rest] = lists
  const others = rest.map((l) => new Set(l))
  return first!.filter((id) => others.every((s) => s.has(id)))
}

/** Whether a loaded record matches the sender/recipient role the filters ask for (the address index holds both roles). */
export function matchesRoles(r: RecordReading, f: TrackFilters): boolean {
  if (r.kind !== 'ok') return true // shown as invalid rather than hidden
  const from = f.from === undefined ? undefined : indexAddress(f.from)
  const to = f.to === undefined ? undefined : indexAddress(f.to)
  if (from !== undefined && indexAddress(r.record.from ?? '') !== from) return false
  if (to !== undefined && !r.record.to.some((a) => indexAddress(a) === to)) return false
  return true
}

export async function loadRecords(redis: Redis, keys: RedisKeys, ids: readonly string[]): Promise<Map<string, LoadedRecord>> {
  const out = new Map<string, LoadedRecord>()
  if (ids.length === 0) return out
  const docs = await redis.mget(ids.map((id) => keys.record(id)))
  const lists = await Promise.all(ids.map((id) => redis.lrange(keys.recordEvents(id), 0, -1)))
  for (const [i, id] of ids.entries()) {
    const streamIds = lists[i] ?? []
    const events: TrackEvent[] = []
    let missing = 0
    if (streamIds.length > 0) {
      const p = redis.pipeline()
      for (const sid of streamIds) p.xrange(keys.events(), sid, sid)
      const replies = (await p.exec()) ?? []
      for (const [err, entries] of replies) {
        const entry = !err && Array.isArray(entries) ? (entries[0] as [string, string[]] | undefined) : undefined
        const fields = entry?.[1] ?? []
        const json = fields[fields.indexOf('e') + 1]
        const e = fields.includes('e') && json !== undefined ? parseEvent(json) : undefined
        if (e) events.push(e)
        else missing++
      }
    }
    out.set(id, { reading: parseRecord(id, docs[i] ?? null), events, eventsMissing: missing })
  }
  return out
}

/** Ids of the other legs of the found records' messages: same Message-ID, linked inbound record. */
export async function relatedIds(redis: Redis, keys: RedisKeys, loaded: ReadonlyMap<string, LoadedRecord>): Promise<string[]> {
  const more = new Set<string>()
  const digests = new Set<string>()
  for (const { reading } of loaded.values()) {
    if (reading.kind !== 'ok') continue
    const r = reading.record
    if (r.inboundRecordId) more.add(r.inboundRecordId)
    const d = r.messageId && canonicalMessageId(r.messageId) ? messageIdDigest(r.messageId) : undefined
    if (d) digests.add(d)
  }
  const lists = await Promise.all([...digests].map((d) => redis.zrange(keys.recordsByMessageId(d), 0, -1)))
  for (const l of lists) for (const id of l) more.add(id)
  return [...more].filter((id) => !loaded.has(id))
}
