// New connections per client address and window. The count lives in Redis when
// the gateway has one, so every node of a cluster sees the same number (a client
// spreading its connections over nodes is still counted once); when Redis is not
// configured or a call fails, each process counts on its own with the same window
// (RedisOrMemory): never "no limit" because Redis is down, never a refused client
// because it is.

import type Redis from 'ioredis'

import { RedisOrMemory } from '../redis/fallback'
import { INCR_WITH_WINDOW } from '../redis/incr-window'
import { WindowedCounter } from '../redis/windowed-counter'


export class ConnectionRate {
  private readonly shared: RedisOrMemory
  private readonly memory: WindowedCounter

  /**
   * @param redis  the shared client; undefined when Redis is not configured (memory only)
   * @param key    the Redis key of an address's count
   * @param warn   told (at most every 30 s) when Redis fails and memory counts instead
   */
  constructor(
    redis: (() => Redis) | undefined,
    private readonly key: (ip: string) => string,
    private readonly windowSeconds: number,
    warn: (message: string) => void,
    opts: { now?: () => number; maxKeys?: number } = {},
  ) {
    this.shared = new RedisOrMemory(redis, 'connection rate limit', warn)
    this.memory = new WindowedCounter({ windowMs: windowSeconds * 1000, ...opts })
  }

  /** Counts one connection attempt from `ip` (refused ones too: a client hammering stays over the limit); returns the count in the window. */
  async hit(ip: string): Promise<number> {
    const key = this.key(ip)
    const { value } = await this.shared.run(
      async (r) => Number(await r.eval(INCR_WITH_WINDOW, 1, key, this.windowSeconds)),
      () => this.memory.increment(key),
    )
    return value
  }
}
