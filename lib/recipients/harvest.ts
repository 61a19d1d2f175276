// Directory-harvest defence: a client that probes many unknown recipients is
// first slowed down, then cut off. Counts live in Redis, per client IP and
// window, so every inbound node sees the same number; when Redis is down the
// count of the current session still applies (fail safe, never fail closed).

import type Redis from 'ioredis'

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

// INCR and EXPIRE in one atomic step: the first probe starts the window, and a
// key can never be left without an expiry.
const INCR_WITH_WINDOW = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`

export class HarvestCounter {
  constructor(
    private readonly redis: () => Redis,
    private readonly key: (ip: string) => string,
    readonly policy: HarvestPolicy,
  ) {}

  /** Counts one unknown recipient from `ip`; returns the count in the window (undefined if Redis is unavailable). */
  async record(ip: string): Promise<number | undefined> {
    try {
      return Number(await this.redis().eval(INCR_WITH_WINDOW, 1, this.key(ip), this.policy.windowSeconds))
    } catch {
      return undefined
    }
  }

  /** The current count for `ip` (0 when unknown or Redis is unavailable). */
  async current(ip: string): Promise<number> {
    try {
      return Number((await this.redis().get(this.key(ip))) ?? 0)
    } catch {
      return 0
    }
  }

  /** What to do after `count` unknown recipients. */
  assess(count: number): { block: boolean; delayMs: number } {
    const p = this.policy
    if (count >= p.blockAfter) return { block: true, delayMs: 0 }
    if (count <= p.slowAfter) return { block: false, delayMs: 0 }
    return { block: false, delayMs: Math.min((count - p.slowAfter) * p.delayMs, p.maxDelayMs) }
  }
}
