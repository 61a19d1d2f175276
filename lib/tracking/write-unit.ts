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
 * instead of ten per accepted message (issue 12). The upkeep (EXPIRE, trim by
 * age) of the indexes messages share (time, client IP, addresses) stays plain
 * commands, so that the write batch sends it once per flush for all of them; the
 * record's own index (its Message-ID: one key per message, nothing to coalesce)
 * is kept up here.
 * KEYS: record, stream, the record's event list, the shared index keys, then the own ones.
 * ARGV: record JSON, TTL, score (record time), member (record id), stream MAXLEN,
 * the number of own index keys (the last KEYS), the trim bound ("(" oldest score), the events.
 */
export const WRITE_RECORD_SCRIPT = [
  "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])",
  'for i = 4, #KEYS do',
  "  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[4])",
  'end',
  'for i = #KEYS - tonumber(ARGV[6]) + 1, #KEYS do',
  "  redis.call('EXPIRE', KEYS[i], ARGV[2])",
  "  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[7])",
  'end',
  'for i = 8, #ARGV do',
  "  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[i])",
  "  redis.call('RPUSH', KEYS[3], id)",
  'end',
  "if #ARGV >= 8 then redis.call('EXPIRE', KEYS[3], ARGV[2]) end",
].join('\n')

/** The search index keys a record is listed in. */
export function indexKeys(keys: RedisKeys, r: TrackRecord): string[] {
  const { shared, own } = recordIndexes(keys, r)
  return [...shared, ...own]
}

/** The indexes other records share (upkeep coalesced per flush) and the record's own (its Message-ID). */
function recordIndexes(keys: RedisKeys, r: TrackRecord): { shared: string[]; own: string[] } {
  const shared = new Set<string>([keys.recordsByTime(), keys.recordsByClientIp(r.client.ip)])
  for (const a of [r.from ?? '', ...r.to]) {
    const canonical = indexAddress(a)
    if (canonical) shared.add(keys.recordsByAddress(canonical))
  }
  const digest = r.messageId ? messageIdDigest(r.messageId) : undefined
  return { shared: [...shared], own: digest ? [keys.recordsByMessageId(digest)] : [] }
}

export function eventCommands(keys: RedisKeys, s: RetentionSettings, events: readonly TrackEvent[]): RedisCommand[] {
  return events.map((e) => ['eval', APPEND_EVENT_SCRIPT, 2, keys.events(), keys.recordEvents(e.recordId), s.streamMaxEvents, eventJson(e), s.recordTtl] as const)
}

/** XTRIM by age: events older than stream_max_age leave the stream (approximately, as Redis trims whole nodes). */
export function trimCommand(keys: RedisKeys, s: RetentionSettings, nowMs: number): RedisCommand {
  return ['xtrim', keys.events(), 'MINID', '~', `${Math.max(0, nowMs - s.streamMaxAge * 1000)}-0`]
}

export function recordUnit(keys: RedisKeys, s: RetentionSettings, r: TrackRecord, events: readonly TrackEvent[], missedKey: string, nowMs: number): WriteUnit {
  const { shared, own } = recordIndexes(keys, r)
  const ownEvents = events.filter((e) => e.recordId === r.id)
  const trimBound = `(${nowMs - s.recordTtl * 1000}`
  const write: RedisCommand = [
    'eval',
    WRITE_RECORD_SCRIPT,
    3 + shared.length + own.length,
    keys.record(r.id),
    keys.events(),
    keys.recordEvents(r.id),
    ...shared,
    ...own,
    serializeRecord(r),
    s.recordTtl,
    r.time,
    r.id,
    s.streamMaxEvents,
    own.length,
    trimBound,
    ...ownEvents.map(eventJson),
  ]
  const commands: RedisCommand[] = [write]
  for (const key of shared) commands.push(['expire', key, s.recordTtl], ['zremrangebyscore', key, '-inf', trimBound])
  // an event of another record (none today) keeps its own append
  if (ownEvents.length < events.length) commands.push(...eventCommands(keys, s, events.filter((e) => e.recordId !== r.id)))
  return { commands, missed: { key: missedKey, field: MISSED.records } }
}

export function eventUnit(keys: RedisKeys, s: RetentionSettings, events: readonly TrackEvent[], missedKey: string): WriteUnit {
  return { commands: eventCommands(keys, s, events), missed: { key: missedKey, field: MISSED.events } }
}
