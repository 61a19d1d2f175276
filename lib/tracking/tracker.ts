// The writing side of tracking in one process: turns records and events into
// WriteUnits on the shared write batch (never awaiting Redis) and JSON lines in
// the event log. gateway-track owns one; the emitters reach it through its sink.

import { dayOf, type RedisKeys } from '../redis/keys'
import type { SharedBatch } from '../redis/shared-batch'
import { EVENT_VERSION, type EventDetails, type EventType, type TrackEvent } from './event'
import type { EventLog } from './event-log'
import type { TrackInstance, TrackRecord } from './record'
import { eventUnit, recordUnit, trimCommand, type RetentionSettings } from './write-unit'

/** Trim the stream by age at most this often (each trim is one command in a flush). */
const TRIM_EVERY_MS = 1000

export interface EventSubject {
  readonly recordId: string
  readonly queueId: string | null
  readonly messageId: string | null
}

export class Tracker {
  private lastTrim = 0

  constructor(
    private readonly shared: Pick<SharedBatch, 'batch'> & { readonly redis: { readonly keys: RedisKeys } },
    readonly node: string,
    readonly instance: TrackInstance,
    private readonly retention: RetentionSettings,
    private readonly log: EventLog,
  ) {}

  event(type: EventType, subject: EventSubject, details: EventDetails = {}, at = Date.now()): TrackEvent {
    return {
      v: EVENT_VERSION,
      type,
      time: new Date(at).toISOString(),
      node: this.node,
      instance: this.instance,
      recordId: subject.recordId,
      queueId: subject.queueId,
      messageId: subject.messageId,
      ...details,
    }
  }

  /** A record, its indexes and its first events, in one unit. */
  writeRecord(r: TrackRecord, events: readonly TrackEvent[]): void {
    const now = Date.now()
    const unit = recordUnit(this.keys, this.retention, r, events, this.missedKey(now), now)
    this.shared.batch.push(this.withTrim(unit, now))
    for (const e of events) this.log.write(JSON.stringify(e))
  }

  /** Later events of a message, in one unit. */
  writeEvents(events: readonly TrackEvent[]): void {
    if (events.length === 0) return
    const now = Date.now()
    this.shared.batch.push(this.withTrim(eventUnit(this.keys, this.retention, events, this.missedKey(now)), now))
    for (const e of events) this.log.write(JSON.stringify(e))
  }

  private get keys(): RedisKeys {
    return this.shared.redis.keys
  }

  private missedKey(now: number): string {
    return this.keys.stats(this.instance, dayOf(new Date(now)))
  }

  private withTrim<U extends { commands: readonly (readonly [string, ...(string | number)[]])[] }>(unit: U, now: number): U {
    if (now - this.lastTrim < TRIM_EVERY_MS) return unit
    this.lastTrim = now
    return { ...unit, commands: [...unit.commands, trimCommand(this.keys, this.retention, now)] }
  }
}
