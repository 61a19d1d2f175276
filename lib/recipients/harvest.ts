// Directory-harvest defence: a client that probes many unknown recipients is
// first slowed down, then cut off. Counts live in Redis, per client IP and
// window, so every inbound node sees the same number. Without Redis (not
// configured, or a call failing) they are kept in process memory with the same
// window, so a prober spreading its probes over sessions is still stopped by
// each node on its own (fail safe: never a crash, never refusing everyone).

import type Redis from 'ioredis'

import { WindowedCounter } from '../redis/windowed-counter'
import { RedisOrMemory } from '../redis/fallback'
import { INCR_WITH_WINDOW } from '../redis/incr-window'
import { RecentReads } from '../redis/recent-reads'

/**
 * How long the count read at connect is reused for further connections from the
 * same address (ms). Without it every inbound connection costs a Redis round trip.
 * A client counted on another node meanwhile is at most this late to be refused
 * at connect; every unknown recipient it sends is counted exactly (the INCR
 * script's reply) and refused at once.
 */
export const CONNECT_READ_TTL_MS = 2_000

export interface HarvestPolicy {
  /** Unknown recipients (per IP and window) after which answers are delayed. */
  slowAfter: number
  /** ... after which the client is disconnected and refused until the window ends. */
  blockAfter: number
  /** Delay added per unknown recipient above slowAfter (ms), capped at maxDelayMs. */
  delayMs: number
  maxDelayMs: number
  windowSeconds: number
}


export class HarvestCounter {
  private readonly shared: RedisOrMemory
  private readonly memory: WindowedCounter
  private readonly recent: RecentReads

  /**
   * @param redis the shared client; undefined when Redis is not configured (memory only)
   * @param warn  told (at most every 30 s) when Redis fails and memory counts instead
   * @param opts  the memory counter's clock and size, how long a count read at connect is reused (tests)
   */
  constructor(
    redis: (() => Redis) | undefined,
    private readonly key: (ip: string) => string,
    readonly policy: HarvestPolicy,
    warn: (message: string) => void,
    opts: { now?: () => number; maxKeys?: number; connectReadTtlMs?: number } = {},
  ) {
    const { connectReadTtlMs = CONNECT_READ_TTL_MS, ...counter } = opts
    this.shared = new RedisOrMemory(redis, 'harvest defence', warn)
    this.memory = new WindowedCounter({ windowMs: policy.windowSeconds * 1000, ...counter })
    this.recent = new RecentReads({ ttlMs: connectReadTtlMs, ...(counter.now && { now: counter.now }) })
  }

  /** Counts one unknown recipient from `ip`; returns the count in the window. */
  async record(ip: string): Promise<number> {
    const key = this.key(ip)
    const { value, where } = await this.shared.run(
      async (r) => Number(await r.eval(INCR_WITH_WINDOW, 1, key, this.policy.windowSeconds)),
      () => this.memory.increment(key),
    )
    if (where === 'redis') this.recent.set(key, value)
    // Probes counted here during a Redis outage still count once Redis answers again (it may
    // have come back empty): memory only counts what Redis did not, so the two add up.
    return where === 'redis' ? value + this.memory.get(key) : value
  }

  /**
   * The current count for `ip` (0 when unknown), as read from Redis at most
   * CONNECT_READ_TTL_MS ago: synchronously when it was (every connection of a busy
   * client but the first costs no promise), else after the read.
   */
  current(ip: string): number | Promise<number> {
    const key = this.key(ip)
    const recent = this.recent.get(key)
    if (recent !== undefined) return recent + this.memory.get(key)
    return this.read(key)
  }

  private async read(key: string): Promise<number> {
    const { value, where } = await this.shared.run(
      async (r) => Number((await r.get(key)) ?? 0),
      () => this.memory.get(key),
    )
    if (where === 'redis') this.recent.set(key, value)
    return where === 'redis' ? value + this.memory.get(key) : value
  }

  /** What to do after `count` unknown recipients. */
  assess(count: number): { block: boolean; delayMs: number } {
    const p = this.policy
    if (count >= p.blockAfter) return { block: true, delayMs: 0 }
    if (count <= p.slowAfter) return { block: false, delayMs: 0 }
    return { block: false, delayMs: Math.min((count - p.slowAfter) * p.delayMs, p.maxDelayMs) }
  }
}
