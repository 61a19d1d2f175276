// The one place traffic counts can be observed from outside the Redis write batch:
// lib/redis/shared-batch.ts count() calls notifyCount(field, by) for every counter
// it increments, and the metrics plugin listens. A separate module so counting
// stays free of any metrics dependency, and listeners never reach the mail path:
// a listener that throws is ignored (metrics must never delay or fail mail).

export type CountListener = (field: string, by: number) => void

const listeners = new Set<CountListener>()

/** Calls `listener` for every count from now on; returns the function that stops it. */
export function observeCounts(listener: CountListener): () => void {
  // a wrapper per call: the same function observed twice is two subscriptions, each removed once
  const entry: CountListener = (field, by) => listener(field, by)
  listeners.add(entry)
  return () => {
    listeners.delete(entry)
  }
}

/** Hands one counter increment to every listener; never throws. */
export function notifyCount(field: string, by: number): void {
  for (const l of listeners) {
    try {
      l(field, by)
    } catch {
      // observation only: a broken listener must not change what the caller does
    }
  }
}
