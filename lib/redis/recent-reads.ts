// A short-lived copy of values read from Redis, so a read that every connection
// makes (is this client address blocked?) costs one round trip per address and
// interval instead of one per connection. What may be cached is only what a
// later, exact step re-checks anyway: a client the copy still calls harmless
// meets the exact count at its first counted step (an INCR script's reply, which
// also refreshes the copy).
//
// Keys are client input (addresses): a Map, never a plain object. Memory is
// bounded: at most `maxKeys` entries, the oldest dropped first (insertion order
// is the order of reads: a refreshed key moves to the back).

export interface RecentReadsOptions {
  /** How long a value read from Redis is reused (ms); 0 turns the copy off. */
  ttlMs: number
  /** Most keys held at once (default 10,000). */
  maxKeys?: number
  /** Monotonic milliseconds; injected by tests. */
  now?: () => number
}

export class RecentReads {
  private readonly entries = new Map<string, { value: number; readAt: number }>()
  private readonly ttlMs: number
  private readonly maxKeys: number
  private readonly now: () => number

  constructor(opts: RecentReadsOptions) {
    this.ttlMs = Math.max(0, opts.ttlMs)
    this.maxKeys = Math.max(1, opts.maxKeys ?? 10_000)
    this.now = opts.now ?? (() => performance.now())
  }

  /** The value read for `key` less than ttlMs ago, else undefined. */
  get(key: string): number | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    if (this.now() - e.readAt < this.ttlMs) return e.value
    this.entries.delete(key)
    return undefined
  }

  /** Remembers a value just read from (or returned by) Redis. */
  set(key: string, value: number): void {
    if (this.ttlMs === 0) return
    this.entries.delete(key)
    if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, { value, readAt: this.now() })
  }
}
