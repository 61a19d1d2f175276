// Remembers the answers of a pure function for its most recent arguments. For
// work repeated with the same input on the per-message path (issue 12: the same
// domains canonicalised a dozen times per message, the same client address
// checked against a network list twice per connection). A Map, so arguments
// that clients choose ("__proto__", "constructor") are plain keys; bounded, so
// what the Internet sends cannot grow it: past `max` the oldest answer goes.

export function memoize<A, R>(fn: (arg: A) => R, max: number): (arg: A) => R {
  const answers = new Map<A, R>()
  return (arg: A): R => {
    if (answers.has(arg)) return answers.get(arg) as R
    const answer = fn(arg)
    if (answers.size >= max) answers.delete(answers.keys().next().value as A)
    answers.set(arg, answer)
    return answer
  }
}

/**
 * `build(ms)` for a value that only changes with the UTC minute (key names of
 * minute, hour and day counters): built once per minute, for the first time seen
 * in it, and reused for every other time in the same minute.
 */
export function perMinute<R>(build: (ms: number) => R): (ms: number) => R {
  let minute = Number.NaN
  let value: R
  return (ms: number): R => {
    const m = Math.floor(ms / 60_000)
    if (m !== minute) {
      value = build(ms)
      minute = m
    }
    return value
  }
}
