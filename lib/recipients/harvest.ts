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

  /**
   * @param redis the shared client; undefined when Redis is not configured (memory only)
   * @param warn  told (at most every 30 s) when Redis fails and memory counts instead
   * @param opts  the memory counter's clock and size (tests)
   */
  constructor(
    redis: (() => Redis) | undefined,
    private readonly key: (ip: string) => string,
    readonly policy: HarvestPolicy,
    warn: (message: string) => void,
    opts: { now?: () => number; maxKeys?: number } = {},
  ) {
    this.shared = new RedisOrMemory(redis, 'harvest defence', warn)
    this.memory = new WindowedCounter({ windowMs: policy.windowSeconds * 1000, ...opts })
  }

  /** Counts one unknown recipient from `ip`; returns the count in the window. */
  async record(ip: string): Promise<number> {
    const key = this.key(ip)
    const { value, where } = await this.shared.run(
      async (r) => Number(await r.eval(INCR_WITH_WINDOW, 1, key, this.policy.windowSeconds)),
      () => this.memory.increment(key),
    )
    // Probes counted here during a Redis outage still count once Redis answers again (it may
    // have come back empty): memory only counts what Redis did not, so the two add up.
    return where === 'redis' ? value + this.memory.get(key) : value
  }

  /** The current count for `ip` (0 when unknown). */
  async current(ip: string): Promise<number> {
    const key = this.key(ip)
    const { value, where } = await this.shared.run(
      async (r) => Number((await r.get(key)) ?? 0),
      () => this.memory.get(key),
    )
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
