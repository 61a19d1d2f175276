// Brute-force lockout for the outbound relay's AUTH: failed attempts are counted
// per client IP and per user name in Redis, so every outbound node sees the same
// numbers and an attacker cannot spread guesses over nodes or connections. At the
// limit, AUTH is refused (right password or not) until the window ends. When
// Redis is unavailable nothing is counted here and the per-session limit of the
// plugin still applies: fail safe, never a crash and never a locked-out relay.

import type Redis from 'ioredis'

import { USER_NAME } from './credentials'

export interface LockoutPolicy {
  /** Failures per client IP and window at which AUTH is refused; 0 = not counted. */
  maxPerIp: number
  /** Failures per user name (from any client) and window; 0 = not counted. */
  maxPerUser: number
  windowSeconds: number
}

export interface LockoutKeys {
  authFailuresByIp(ip: string): string
  authFailuresByUser(user: string): string
}

export type LockoutState =
  | { locked: false; counted: boolean }
  | { locked: true; by: 'ip' | 'user'; count: number }

// INCR and EXPIRE of every key in one atomic step: the first failure starts the
// window, and no key can ever be left without an expiry (not even one written
// by something else without a TTL).
const INCR_WITH_WINDOW = `local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 or redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
  out[i] = n
end
return out`

// Takes back a counted attempt, never below zero (the key may have expired meanwhile).
const DECR_TO_ZERO = `for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0`

export class AuthLockout {
  constructor(
    private readonly redis: () => Redis,
    private readonly keys: LockoutKeys,
    readonly policy: LockoutPolicy,
  ) {}

  /**
   * Counts this attempt before the password is checked, so parallel attempts
   * cannot all slip under the limit while their passwords are being verified:
   * `before` is the state this attempt found (locked: refuse it unchecked),
   * `after` the state once it has failed. A success is taken back (succeeded()).
   * Redis unavailable: nothing locked, `counted: false`.
   */
  async begin(ip: string, user: string): Promise<{ before: LockoutState; after: LockoutState }> {
    const targets = this.targets(ip, user)
    if (targets.length === 0) return { before: { locked: false, counted: true }, after: { locked: false, counted: true } }
    let counts: number[]
    try {
      const out = (await this.redis().eval(INCR_WITH_WINDOW, targets.length, ...targets.map((t) => t.key), this.policy.windowSeconds)) as unknown[]
      counts = out.map(Number)
    } catch {
      const uncounted = { locked: false, counted: false } as const
      return { before: uncounted, after: uncounted }
    }
    return { before: this.assess(targets, counts.map((n) => n - 1)), after: this.assess(targets, counts) }
  }

  /** The attempt begun for `ip`/`user` succeeded: it is not a failure. Best effort. */
  async succeeded(ip: string, user: string): Promise<void> {
    const targets = this.targets(ip, user)
    if (targets.length === 0) return
    try {
      await this.redis().eval(DECR_TO_ZERO, targets.length, ...targets.map((t) => t.key))
    } catch {
      // Redis gone meanwhile: the attempt stays counted until the window ends
    }
  }

  /**
   * The counters that apply. A user name that can never exist (not a valid
   * name) is not counted by name: it protects no account, and the per-IP count
   * still catches whoever sends it.
   */
  private targets(ip: string, user: string): { by: 'ip' | 'user'; key: string; max: number }[] {
    const out: { by: 'ip' | 'user'; key: string; max: number }[] = []
    if (this.policy.maxPerIp > 0) out.push({ by: 'ip', key: this.keys.authFailuresByIp(ip), max: this.policy.maxPerIp })
    if (this.policy.maxPerUser > 0 && USER_NAME.test(user)) out.push({ by: 'user', key: this.keys.authFailuresByUser(user), max: this.policy.maxPerUser })
    return out
  }

  private assess(targets: { by: 'ip' | 'user'; max: number }[], counts: number[]): LockoutState {
    for (const [i, t] of targets.entries()) {
      const count = counts[i] ?? 0
      if (count >= t.max) return { locked: true, by: t.by, count }
    }
    return { locked: false, counted: true }
  }
}
