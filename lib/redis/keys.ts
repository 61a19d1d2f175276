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

  /** New connections from one client IP to one instance in the current window (gateway-client-limits). */
  connectionRate(direction: Direction, ip: string): string {
    return `${this.prefix}:connrate:${direction}:${ip}`
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

  /** One message's record at one instance (message tracking): a JSON document with a schema version. */
  record(recordId: string): string {
    return `${this.prefix}:msg:${recordId}`
  }

  /** The ids, in the events stream, of one message's events at one instance (a list). */
  recordEvents(recordId: string): string {
    return `${this.prefix}:msg:${recordId}:events`
  }

  /** Every tracking event of every node and instance (a stream, trimmed by length and age). */
  events(): string {
    return `${this.prefix}:events`
  }

  /** Search index: records by Message-ID (a sorted set of record id -> time); `digest` is a hash of the canonical Message-ID. */
  recordsByMessageId(digest: string): string {
    return `${this.prefix}:idx:mid:${digest}`
  }

  /** Search index: records by envelope address, sender or recipient (sorted set of record id -> time). */
  recordsByAddress(address: string): string {
    return `${this.prefix}:idx:addr:${address}`
  }

  /** Search index: records by client IP (sorted set of record id -> time). */
  recordsByClientIp(ip: string): string {
    return `${this.prefix}:idx:ip:${ip}`
  }

  /** Search index: every record by time (sorted set of record id -> time), for --since/--until alone. */
  recordsByTime(): string {
    return `${this.prefix}:idx:time`
  }

  /** Link state of one destination of an instance (remote domain, or internal host:port): a hash. */
  link(direction: Direction, destination: string): string {
    return `${this.prefix}:link:${direction}:${destination}`
  }

  /** The destinations an instance has link state for (a set), so listing them needs no SCAN. */
  links(direction: Direction): string {
    return `${this.prefix}:links:${direction}`
  }

  /** Messages waiting in the delivery queues of all nodes for one destination: sorted set of queue id -> queued at (ms). */
  linkWaiting(direction: Direction, destination: string): string {
    return `${this.prefix}:linkq:${direction}:${destination}`
  }

  /**
   * Counters of one node and instance in one time bucket (`gateway report`): a hash of
   * counter -> number. Granularity m (bucket "YYYY-MM-DDTHH:MM"), h ("YYYY-MM-DDTHH") or
   * d ("YYYY-MM-DD"), UTC. Per node, so the sum over nodes is exact however they flush.
   */
  bucket(granularity: 'm' | 'h' | 'd', direction: Direction, node: string, bucket: string): string {
    return `${this.prefix}:c:${granularity}:${direction}:${node}:${bucket}`
  }

  /** The names of the nodes that wrote bucket counters (a set), so a report needs no SCAN. */
  nodes(): string {
    return `${this.prefix}:nodes`
  }

  /** Marks a write batch flush as applied (lib/redis/write-batch.ts): a flush whose reply was lost is not sent twice. */
  flushMarker(token: string): string {
    return `${this.prefix}:flush:${token}`
  }

  /** Pattern matching every stats key of a direction (for the CLI). */
  statsPattern(direction: Direction): string {
    return `${this.prefix}:stats:${direction}:*`
  }
}

/** UTC calendar day, the bucket of daily counters. */
export function dayOf(date: Date): string {
  return isoMinuteOf(date.getTime()).slice(0, 10)
}

let cachedMinute = Number.NaN
let cachedIso = ''

/**
 * "YYYY-MM-DDTHH:MM:00.000Z" of the UTC minute holding `ms`. Every counter
 * increment names its day, hour and minute (a dozen per message): one
 * toISOString per minute instead of four per increment (issue 12). Throws
 * RangeError for an invalid time, as toISOString does.
 */
export function isoMinuteOf(ms: number): string {
  const minute = Math.floor(ms / 60_000)
  if (minute !== cachedMinute) {
    cachedIso = new Date(minute * 60_000).toISOString()
    cachedMinute = minute
  }
  return cachedIso
}
