// The gateway's per-day traffic counters as a test reads them: summed over every
// UTC day since the test began, so a test that runs across midnight (its counts
// split over two day keys) reads the same totals. Tests must not depend on the clock.

import type Redis from 'ioredis'

import { dayOf } from '../../lib/redis/keys'
import { lastReading } from './wait'

const DAY_MS = 86_400_000

/** The day keys (as the gateway writes them) from `since` to `now`, oldest first. */
export function daysSince(since: Date, now = new Date()): string[] {
  const days: string[] = []
  for (let t = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()); t <= now.getTime(); t += DAY_MS) days.push(dayOf(new Date(t)))
  return days
}

export function statsKey(prefix: string, direction: 'inbound' | 'outbound', day: string): string {
  return `${prefix}:stats:${direction}:${day}`
}

/** Every counter of `direction` summed over the days since `since`. */
export async function countersSince(redis: Redis, prefix: string, direction: 'inbound' | 'outbound', since: Date): Promise<Map<string, number>> {
  const sum = new Map<string, number>()
  for (const day of daysSince(since)) {
    const h = await redis.hgetall(statsKey(prefix, direction, day))
    for (const [field, value] of Object.entries(h)) sum.set(field, (sum.get(field) ?? 0) + Number(value))
  }
  return sum
}

/** Polls countersSince until `until` holds (counters are flushed every second) or `timeoutMs` passes; the last reading. */
export async function waitForCounters(
  redis: Redis,
  prefix: string,
  direction: 'inbound' | 'outbound',
  since: Date,
  until: (c: Map<string, number>) => boolean,
  timeoutMs = 15_000,
): Promise<Map<string, number>> {
  return lastReading(() => countersSince(redis, prefix, direction, since), until, { timeoutMs, intervalMs: 100 })
}
