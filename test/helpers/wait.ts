// Waiting for something a real process does a moment later (a log line, a counter
// flushed to Redis, a message arriving), on vitest's vi.waitFor: one retry loop for
// every helper, and a timeout error that says what was awaited and what was there.

import { vi } from 'vitest'

export interface WaitOptions {
  timeoutMs: number
  /** Pause between two readings (default 50 ms). */
  intervalMs?: number
}

/**
 * Waits until `pattern` matches `text()` and returns the match. On timeout the
 * error names `where` and shows the last `tail` characters of the text (all of it by default).
 */
export async function waitForMatch(text: () => string, pattern: RegExp, opts: WaitOptions & { where: string; tail?: number }): Promise<RegExpExecArray> {
  return vi.waitFor(
    () => {
      const now = text()
      const m = pattern.exec(now)
      if (m) return m
      throw new Error(`${opts.where} has no ${pattern} after ${opts.timeoutMs} ms:\n${opts.tail === undefined ? now : now.slice(-opts.tail)}`)
    },
    { timeout: opts.timeoutMs, interval: opts.intervalMs ?? 50 },
  )
}

/**
 * Reads until `done(reading)` holds or the time is up, and returns the last
 * reading either way: the caller's assertions on it then report a miss with the
 * actual values. An error thrown by `read` fails at once.
 */
export async function lastReading<T>(read: () => T | Promise<T>, done: (reading: T) => boolean, opts: WaitOptions): Promise<T> {
  const notYet = new Error('not yet')
  let last: { reading: T } | undefined
  let failure: { error: unknown } | undefined
  try {
    await vi.waitFor(
      async () => {
        try {
          last = { reading: await read() }
        } catch (error) {
          failure = { error }
          return
        }
        if (!done(last.reading)) throw notYet
      },
      { timeout: opts.timeoutMs, interval: opts.intervalMs ?? 50 },
    )
  } catch (error) {
    // time is up: the last reading stands; without one, the timeout itself is the failure
    if (!last) throw error
  }
  if (failure) throw failure.error
  return last!.reading
}
