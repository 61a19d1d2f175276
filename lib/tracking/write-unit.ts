// The Redis commands of tracking, as WriteUnits for the shared write batch: a
// record with its search indexes and its events leave together (one unit: all or
// nothing in the same MULTI), later events of the message (delivery, deferral,
// bounce) each as a unit of their own. Pure: the caller supplies keys, settings
// and the time, so the exact commands are unit-tested.

import type { RedisKeys } from '../redis/keys'
import type { RedisCommand, WriteUnit } from '../redis/write-batch'
import { indexAddress, messageIdDigest } from './canonical'
import { eventJson, type TrackEvent } from './event'
import { serializeRecord, type TrackRecord } from './record'

export interface RetentionSettings {
  /** Seconds a record, its event list and index entries are kept. */
  readonly recordTtl: number
  readonly streamMaxEvents: number
  /** Seconds an event stays in the stream. */
  readonly streamMaxAge: number
}

/** Counter fields (in the instance's daily stats hash) of units dropped while Redis was away. */
export const MISSED = Object.freeze({ records: 'tracking_records_missed', events: 'tracking_events_missed' })

/**
 * Appends one event to the stream (trimmed to about MAXLEN) and its stream id to
 * the record's event list, atomically: `gateway track` reads a message's events
 * by id, never by scanning the stream.
 */
export const APPEND_EVENT_SCRIPT = [
  "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])",
  "redis.call('RPUSH', KEYS[2], id)",
  "redis.call('EXPIRE', KEYS[2], ARGV[3])",
  'return id',
].join('\n')

/**
 * A record, its index entries and its first events in one command: SET with the
 * TTL, a ZADD per index, then each event appended as APPEND_EVENT_SCRIPT does.
 * Each Redis command is an object, a timer and a reply in the client: one
 * instead of ten per accepted message (issue 12). The indexes' EXPIRE and trim
 * stay plain commands, so that the write batch sends them once per flush.
 * KEYS: record, stream, the record's event list, the index keys.
 * ARGV: record JSON, TTL, score (record time), member (record id), stream MAXLEN, the events.
 */
export const WRITE_RECORD_SCRIPT = [
  "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])",
  'for i = 4, #KEYS do',
  "  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[4])",
  'end',
  'for i = 6, #ARGV do',
  "  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[i])",
  "  redis.call('RPUSH', KEYS[3], id)",
  'end',
  "if #ARGV >= 6 then redis.call('EXPIRE', KEYS[3], ARGV[2]) end",
].join('\n')

/** The search index keys a record is listed in. */
export function indexKeys(keys: RedisKeys, r: TrackRecord): string[] {
  const out = new Set<string>([keys.recordsByTime(), keys.recordsByClientIp(r.client.ip)])
  const digest = r.messageId ? messageIdDigest(r.messageId) : undefined
  if (digest) out.add(keys.recordsByMessageId(digest))
  for (const a of [r.from ?? '', ...r.to]) {
    const canonical = indexAddress(a)
    if (canonical) out.add(keys.recordsByAddress(canonical))
  }
  return [...out]
}

export function eventCommands(keys: RedisKeys, s: RetentionSettings, events: readonly TrackEvent[]): RedisCommand[] {
  return events.map((e) => ['eval', APPEND_EVENT_SCRIPT, 2, keys.events(), keys.recordEvents(e.recordId), s.streamMaxEvents, eventJson(e), s.recordTtl] as const)
}

/** XTRIM by age: events older than stream_max_age leave the stream (approximately, as Redis trims whole nodes). */
export function trimCommand(keys: RedisKeys, s: RetentionSettings, nowMs: number): RedisCommand {
  return ['xtrim', keys.events(), 'MINID', '~', `${Math.max(0, nowMs - s.streamMaxAge * 1000)}-0`]
}

export function recordUnit(keys: RedisKeys, s: RetentionSettings, r: TrackRecord, events: readonly TrackEvent[], missedKey: string, nowMs: number): WriteUnit {
  const indexes = indexKeys(keys, r)
  const own = events.filter((e) => e.recordId === r.id)
  const write: RedisCommand = [
    'eval',
    WRITE_RECORD_SCRIPT,
    3 + indexes.length,
    keys.record(r.id),
    keys.events(),
    keys.recordEvents(r.id),
    ...indexes,
    serializeRecord(r),
    s.recordTtl,
    r.time,
    r.id,
    s.streamMaxEvents,
    ...own.map(eventJson),
  ]
  const commands: RedisCommand[] = [write]
  const oldest = nowMs - s.recordTtl * 1000
  for (const key of indexes) commands.push(['expire', key, s.recordTtl], ['zremrangebyscore', key, '-inf', `(${oldest}`])
  // an event of another record (none today) keeps its own append
  if (own.length < events.length) commands.push(...eventCommands(keys, s, events.filter((e) => e.recordId !== r.id)))
  return { commands, missed: { key: missedKey, field: MISSED.records } }
}

export function eventUnit(keys: RedisKeys, s: RetentionSettings, events: readonly TrackEvent[], missedKey: string): WriteUnit {
  return { commands: eventCommands(keys, s, events), missed: { key: missedKey, field: MISSED.events } }
}
