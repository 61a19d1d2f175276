// Redis commands executed, from INFO commandstats: the delta over a measurement
// divided by the messages is "Redis commands per message". MULTI and EXEC are
// counted apart, so commands outside transactions can be told from those inside.

import Redis from 'ioredis'

export interface CommandCounts {
  /** Every command executed (MULTI/EXEC included). */
  total: number
  multi: number
  exec: number
  /** INFO itself, issued by this measurement: subtracted from deltas. */
  info: number
}

export async function commandCounts(url: string): Promise<CommandCounts> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true })
  try {
    await redis.connect()
    const text = await redis.info('commandstats')
    const counts: CommandCounts = { total: 0, multi: 0, exec: 0, info: 0 }
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const calls = Number(m[2])
      counts.total += calls
      if (m[1] === 'multi') counts.multi = calls
      if (m[1] === 'exec') counts.exec = calls
      if (m[1] === 'info') counts.info = calls
    }
    return counts
  } finally {
    redis.disconnect()
  }
}

/** Commands between two readings, without the INFO calls of the measurement itself. */
export function commandsBetween(before: CommandCounts, after: CommandCounts): number {
  return after.total - before.total - (after.info - before.info)
}
