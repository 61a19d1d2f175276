// Shared counters live in Redis so every node sees the same numbers; when Redis
// is not configured, or a call to it fails, the caller's per-process alternative
// answers instead: a limit one node enforces on its own is better than none (the
// AUTH lockout, the directory-harvest defence). The operator is told when that
// happens, at most once per interval, not on every attempt or message.

import type Redis from 'ioredis'

import { redisExpectedDown } from './client'

export const FALLBACK_WARN_INTERVAL_MS = 30_000

export interface FallbackOptions {
  intervalMs?: number
  /** Milliseconds, for the warning interval; injected by tests. */
  now?: () => number
}

export class RedisOrMemory {
  private lastWarning = -Infinity
  private readonly intervalMs: number
  private readonly now: () => number

  /**
   * @param redis the shared client, or undefined when Redis is not configured (memory only, nothing to warn about)
   * @param what  names the feature in the warning, e.g. "auth lockout"
   */
  constructor(
    private readonly redis: (() => Redis) | undefined,
    private readonly what: string,
    private readonly warn: (message: string) => void,
    opts: FallbackOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? FALLBACK_WARN_INTERVAL_MS
    this.now = opts.now ?? Date.now
  }

  /** `shared` against Redis; if there is none or it fails, `local`. Never throws what `shared` throws. */
  async run<T>(shared: (redis: Redis) => Promise<T>, local: () => T | Promise<T>): Promise<{ value: T; where: 'redis' | 'memory' }> {
    if (!this.redis) return { value: await local(), where: 'memory' }
    try {
      return { value: await shared(this.redis()), where: 'redis' }
    } catch (err) {
      this.warnNow(err)
      return { value: await local(), where: 'memory' }
    }
  }

  private warnNow(err: unknown): void {
    // standalone (started without Redis): counting in memory is the announced state, not news
    if (redisExpectedDown()) return
    const now = this.now()
    if (now - this.lastWarning < this.intervalMs) return
    this.lastWarning = now
    const why = err instanceof Error ? err.message : String(err)
    this.warn(`${this.what}: Redis unavailable (${why}); counting in this process only, other nodes do not see these counts`)
  }
}
