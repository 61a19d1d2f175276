// Everything the gateway writes to Redis about its traffic, buffered in memory and
// written in one MULTI per interval: counters (hash increments) and "units" of
// commands (a message record with its indexes, a tracking event, a link-state
// update). Why buffer: a Redis round trip per SMTP event would sit on the mail
// path; batching costs none, and a message costs at most one round trip per
// instance, together with the counters. Why it matters for outages: when Redis is
// down, counters and units stay here and are written once it is back, so an
// outage delays the numbers and the history instead of losing them (and never
// delays mail). The buffer of units is bounded: past `maxUnits` the oldest unit is
// dropped and its `missed` counter incremented, so a long outage is visible in the
// counters, never silent. Each flush sets every counter with its TTL in the same
// MULTI: no key is left without an expiry.

import { randomUUID } from 'node:crypto'

import type Redis from 'ioredis'

import { coalesceUpkeep } from './coalesce'

/** One Redis command: name and arguments, e.g. ['hset', key, 'field', 'value']. */
export type RedisCommand = readonly [name: string, ...args: (string | number)[]]

/** Commands that belong together (written in the same MULTI or not at all). */
export interface WriteUnit {
  readonly commands: readonly RedisCommand[]
  /** The counter incremented if this unit is dropped (buffer full): hash key and field. */
  readonly missed: { readonly key: string; readonly field: string }
}

export interface WriteBatchOptions {
  redis: () => Redis
  /** TTL set on a counter hash written without its own. */
  counterTtlSeconds: number
  flushIntervalMs: number
  /** Most units kept while Redis does not answer; older ones are dropped (and counted). */
  maxUnits: number
  /** Counter (hash key, field) incremented each time a flush fails, so outages are counted too. */
  errorCounter: () => { key: string; field: string }
  onError: (err: Error) => void
  /** Told of the counters the batch itself increments (flush failures, dropped units). */
  onCounted?: (field: string, by: number) => void
  /**
   * The key of a flush's "applied" marker (see `unconfirmed`): set inside each MULTI,
   * checked before a failed flush is sent again. Without it a failed flush is simply re-sent.
   */
  appliedMarker?: (token: string) => string
}

type Counters = Map<string, { ttl: number; fields: Map<string, number> }>

/** How long a flush's applied marker lives: far longer than any retry takes. */
const MARKER_TTL_SECONDS = 86_400

/** Units written per MULTI at most: after an outage the backlog goes out in slices. */
const UNITS_PER_FLUSH = 2000

export class WriteBatch {
  private counters: Counters = new Map()
  private units: WriteUnit[] = []
  /**
   * A flush whose MULTI failed. Usually nothing was applied (Redis down: nothing is
   * sent), but when EXEC ran and its reply was lost (a command timeout, a dropped
   * connection) it was applied in full: sending it again would count everything
   * twice. So each MULTI also sets a marker, and a failed flush is sent again only
   * if its marker is not there.
   */
  private unconfirmed: { token: string; counters: Counters; units: WriteUnit[] } | undefined
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined

  constructor(private readonly opts: WriteBatchOptions) {}

  /** Adds `by` to a counter; its hash gets `ttlSeconds` (default: the batch's) in the same MULTI. */
  incr(key: string, field: string, by = 1, ttlSeconds = this.opts.counterTtlSeconds): void {
    if (by === 0) return
    let entry = this.counters.get(key)
    if (!entry) this.counters.set(key, (entry = { ttl: ttlSeconds, fields: new Map() }))
    entry.fields.set(field, (entry.fields.get(field) ?? 0) + by)
  }

  push(unit: WriteUnit): void {
    this.units.push(unit)
    this.dropOverflow()
  }

  /** Units waiting to be written (for logs and tests). */
  get pendingUnits(): number {
    return this.units.length + (this.unconfirmed?.units.length ?? 0)
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushIntervalMs)
    this.timer.unref()
  }

  /** Stops the timer and writes what is pending (best effort: gives up when a flush fails). */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    for (let i = 0; i < 50; i++) {
      if (this.counters.size === 0 && this.units.length === 0 && !this.unconfirmed) return
      await this.flush()
      if (this.unconfirmed) return // Redis not answering: what is left stays in pendingUnits
    }
  }

  /** Writes what is pending; on failure keeps it (plus one error count) for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private dropOverflow(): void {
    while (this.units.length > this.opts.maxUnits) {
      const dropped = this.units.shift()!
      this.incr(dropped.missed.key, dropped.missed.field)
      this.opts.onCounted?.(dropped.missed.field, 1)
    }
  }

  private async write(): Promise<void> {
    if (this.unconfirmed && !(await this.settleUnconfirmed())) return
    // Only what is pending now: units that arrive while an EXEC is under way wait for
    // the next interval. Looping until the buffer is empty sent one MULTI per message
    // or two under steady traffic (a round trip each, every counter's EXPIRE repeated).
    let backlog = this.units.length
    do {
      if (this.counters.size === 0 && this.units.length === 0) return
      const counters = this.counters
      const units = this.units.slice(0, Math.min(backlog, UNITS_PER_FLUSH))
      backlog -= units.length
      this.counters = new Map()
      this.units = this.units.slice(units.length)
      const token = randomUUID()
      try {
        const multi = this.opts.redis().multi()
        for (const [key, { ttl, fields }] of counters) {
          for (const [field, by] of fields) multi.hincrby(key, field, by)
          multi.expire(key, ttl)
        }
        for (const [name, ...args] of coalesceUpkeep(units.flatMap((u) => u.commands))) multi.call(name, ...args)
        if (this.opts.appliedMarker) multi.set(this.opts.appliedMarker(token), '1', 'EX', MARKER_TTL_SECONDS)
        const replies = await multi.exec()
        if (!replies) throw new Error('MULTI aborted')
      } catch (err) {
        this.unconfirmed = { token, counters, units }
        const failure = this.opts.errorCounter()
        this.incr(failure.key, failure.field)
        this.opts.onCounted?.(failure.field, 1)
        this.opts.onError(err as Error)
        return
      }
    } while (backlog > 0)
  }

  /**
   * Decides what a failed flush was: applied (its marker is there: forget it) or not
   * (put it back in front of what is pending). False while Redis cannot tell.
   */
  private async settleUnconfirmed(): Promise<boolean> {
    const u = this.unconfirmed!
    let applied = false
    if (this.opts.appliedMarker) {
      try {
        applied = (await this.opts.redis().exists(this.opts.appliedMarker(u.token))) === 1
      } catch {
        return false // still down: keep it as it is
      }
    }
    this.unconfirmed = undefined
    if (applied) return true
    const newer = this.counters
    this.counters = new Map()
    for (const [key, { ttl, fields }] of u.counters) for (const [field, by] of fields) this.incr(key, field, by, ttl)
    for (const [key, { ttl, fields }] of newer) for (const [field, by] of fields) this.incr(key, field, by, ttl)
    this.units = [...u.units, ...this.units]
    this.dropOverflow()
    return true
  }
}
