// Counters buffered in memory and written to Redis in one MULTI per interval.
// Why buffer: a counter update per SMTP event would cost a Redis round trip on the
// mail path; batching costs none. Why it matters for outages: when Redis is down
// the deltas stay here and are written once it is back, so a Redis outage delays
// the numbers instead of losing them (and never delays mail). Each flush sets the
// counter and its TTL in the same MULTI: no key can be left without an expiry.

import type Redis from 'ioredis'

export interface CountersOptions {
  redis: () => Redis
  ttlSeconds: number
  flushIntervalMs: number
  /** Field incremented (in the same hash) each time a flush fails, so outages are counted too. */
  errorField: string
  onError: (err: Error) => void
}

export class Counters {
  private pending = new Map<string, Map<string, number>>()
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined

  constructor(private readonly opts: CountersOptions) {}

  incr(key: string, field: string, by = 1): void {
    if (by === 0) return
    let fields = this.pending.get(key)
    if (!fields) this.pending.set(key, (fields = new Map()))
    fields.set(field, (fields.get(field) ?? 0) + by)
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushIntervalMs)
    this.timer.unref()
  }

  /** Stops the timer and writes what is pending, including counts added during a running flush. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
    if (this.pending.size > 0) await this.flush()
  }

  /** Writes everything pending; on failure keeps it (plus one error count) for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    try {
      const multi = this.opts.redis().multi()
      for (const [key, fields] of batch) {
        for (const [field, by] of fields) multi.hincrby(key, field, by)
        multi.expire(key, this.opts.ttlSeconds)
      }
      const replies = await multi.exec()
      if (!replies) throw new Error('MULTI aborted')
    } catch (err) {
      for (const [key, fields] of batch) {
        for (const [field, by] of fields) this.incr(key, field, by)
        this.incr(key, this.opts.errorField)
      }
      this.opts.onError(err as Error)
    }
  }
}
