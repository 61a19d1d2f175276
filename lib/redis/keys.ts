// Every Redis key the gateway uses is built here: one prefix, one style
// ("<prefix>:<area>:<parts...>"), so operators can find, count and expire them,
// and several gateways can share one Redis with different prefixes.

export type Direction = 'inbound' | 'outbound'

export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Daily counters of one instance (= one mail direction): a hash of counter -> number. */
  stats(direction: Direction, day: string): string {
    return `${this.prefix}:stats:${direction}:${day}`
  }

  /** Unknown-recipient probes of one client IP in the current window (directory-harvest defence). */
  harvest(ip: string): string {
    return `${this.prefix}:harvest:${ip}`
  }

  /** Failed AUTH attempts from one client IP in the current window (outbound brute-force lockout). */
  authFailuresByIp(ip: string): string {
    return `${this.prefix}:authfail:ip:${ip}`
  }

  /** Failed AUTH attempts for one user name, from any client, in the current window. */
  authFailuresByUser(user: string): string {
    return `${this.prefix}:authfail:user:${user}`
  }

  /** AUTH checks in flight for one client IP: a sorted set of attempt id -> lease expiry (ms). */
  authLeasesByIp(ip: string): string {
    return `${this.prefix}:authlease:ip:${ip}`
  }

  /** AUTH checks in flight for one user name. */
  authLeasesByUser(user: string): string {
    return `${this.prefix}:authlease:user:${user}`
  }

  /** Pattern matching every stats key of a direction (for the CLI). */
  statsPattern(direction: Direction): string {
    return `${this.prefix}:stats:${direction}:*`
  }
}

/** UTC calendar day, the bucket of daily counters. */
export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10)
}
