// Counters kept in process memory with the semantics of the gateway's Redis
// counters (INCR, plus EXPIRE on the first one): the first increment of a key
// starts its window, and the count is gone when the window ends. It is what the
// AUTH lockout and the directory-harvest defence count with when Redis is not
// configured or not reachable, so one process still enforces the same limits
// over the same windows.
//
// Memory is bounded: at most `maxKeys` keys. Every window has the same length
// and starts at a key's (re)creation, so the Map's insertion order is the order
// in which windows end: expired keys are dropped from the front at each
// increment (amortised O(1)), and when the map is full the key whose window ends
// first goes. Flooding it with new keys (many addresses, invented user names) can
// only make it forget the oldest counts early; it can never grow memory.
//
// Keys are client input (addresses, user names): a Map, never a plain object, so
// "__proto__" or "constructor" are keys like any other.

export interface WindowedCounterOptions {
  /** Length of each key's window, from its first increment (ms). */
  windowMs: number
  /** Most keys held at once (default 100,000: a few MB). */
  maxKeys?: number
  /** Monotonic milliseconds; injected by tests. Default: performance.now (immune to wall-clock jumps). */
  now?: () => number
}

interface Entry {
  count: number
  endsAt: number
}

export const DEFAULT_MAX_KEYS = 100_000

export class WindowedCounter {
  private readonly entries = new Map<string, Entry>()
  private readonly windowMs: number
  private readonly maxKeys: number
  private readonly now: () => number

  constructor(opts: WindowedCounterOptions) {
    if (!(opts.windowMs > 0)) throw new Error(`windowMs must be positive, got ${opts.windowMs}`)
    this.windowMs = opts.windowMs
    this.maxKeys = Math.max(1, opts.maxKeys ?? DEFAULT_MAX_KEYS)
    this.now = opts.now ?? (() => performance.now())
  }

  /** Adds one to `key`'s count in its current window (starting a window if there is none); returns the new count. */
  increment(key: string): number {
    const now = this.now()
    this.dropExpired(now)
    const live = this.live(key, now)
    if (live) return ++live.count
    if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, { count: 1, endsAt: now + this.windowMs })
    return 1
  }

  /** `key`'s count in its current window (0 when it has none). */
  get(key: string): number {
    return this.live(key, this.now())?.count ?? 0
  }

  /** Milliseconds until `key`'s window ends (0 when it has none). */
  remainingMs(key: string): number {
    const now = this.now()
    const e = this.live(key, now)
    return e ? e.endsAt - now : 0
  }

  /** Keys held (expired ones not yet dropped included). */
  get size(): number {
    return this.entries.size
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    if (e.endsAt > now) return e
    this.entries.delete(key) // re-created at the end of the map: insertion order stays end order
    return undefined
  }

  private dropExpired(now: number): void {
    for (const [key, e] of this.entries) {
      if (e.endsAt > now) return
      this.entries.delete(key)
    }
  }
}
