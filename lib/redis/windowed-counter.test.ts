// Unit tests for the in-memory windowed counter, on an injected clock: a window
// starts at the first increment and is not extended by later ones, the count is
// gone when it ends, memory stays under the cap (oldest window dropped first),
// and prototype names are ordinary keys.
import { describe, expect, it } from 'vitest'

import { WindowedCounter } from './windowed-counter'

function clock(start = 1_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => void (t += ms) }
}

describe('WindowedCounter', () => {
  it('counts per key within a window that the first increment starts and later ones do not extend', () => {
    const c = clock()
    const counter = new WindowedCounter({ windowMs: 1000, now: c.now })
    expect(counter.increment('a')).toBe(1)
    c.advance(600)
    expect(counter.increment('a')).toBe(2)
    expect(counter.increment('b')).toBe(1)
    expect(counter.get('a')).toBe(2)
    expect(counter.remainingMs('a')).toBe(400)
    c.advance(399)
    expect(counter.get('a')).toBe(2)
    c.advance(1) // exactly at the end of a's window
    expect(counter.get('a')).toBe(0)
    expect(counter.remainingMs('a')).toBe(0)
    expect(counter.get('b')).toBe(1) // b's window began 600 ms later
    expect(counter.increment('a')).toBe(1) // a new window
    expect(counter.remainingMs('a')).toBe(1000)
  })

  it('reads without counting: get() never starts a window', () => {
    const counter = new WindowedCounter({ windowMs: 1000, now: clock().now })
    expect(counter.get('x')).toBe(0)
    expect(counter.size).toBe(0)
  })

  it('drops expired keys as it goes and never holds more than maxKeys (the window ending first goes)', () => {
    const c = clock()
    const counter = new WindowedCounter({ windowMs: 1000, maxKeys: 3, now: c.now })
    counter.increment('old')
    c.advance(100)
    counter.increment('mid')
    counter.increment('mid')
    c.advance(100)
    counter.increment('new')
    counter.increment('newest') // full: "old" goes
    expect(counter.size).toBe(3)
    expect([counter.get('old'), counter.get('mid'), counter.get('new'), counter.get('newest')]).toEqual([0, 2, 1, 1])
    c.advance(5000)
    counter.increment('later') // every other window ended: all dropped
    expect(counter.size).toBe(1)
  })

  it('treats prototype names as ordinary keys', () => {
    const counter = new WindowedCounter({ windowMs: 1000, now: clock().now })
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect([key, counter.get(key)]).toEqual([key, 0])
      expect([key, counter.increment(key), counter.increment(key)]).toEqual([key, 1, 2])
    }
    expect(counter.size).toBe(4)
  })

  it('refuses a window that is not positive', () => {
    expect(() => new WindowedCounter({ windowMs: 0 })).toThrow(/windowMs/)
  })
})
