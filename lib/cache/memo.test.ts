// Unit tests for memoize: one call per distinct argument while remembered,
// prototype names as plain keys, and a bound on what it keeps.

import { describe, expect, it, vi } from 'vitest'

import { memoize, perMinute } from './memo'

describe('memoize', () => {
  it('calls the function once per argument it remembers, also for prototype names and falsy answers', () => {
    const fn = vi.fn((s: string) => (s === 'none' ? undefined : s.length))
    const m = memoize(fn, 10)
    for (let i = 0; i < 3; i++) {
      expect(m('__proto__')).toBe(9)
      expect(m('constructor')).toBe(11)
      expect(m('none')).toBeUndefined()
    }
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('keeps at most `max` answers, forgetting the oldest first', () => {
    const fn = vi.fn((n: number) => n * 2)
    const m = memoize(fn, 3)
    for (const n of [1, 2, 3, 4]) m(n) // 1 is forgotten
    fn.mockClear()
    expect([m(2), m(3), m(4)]).toEqual([4, 6, 8])
    expect(fn).not.toHaveBeenCalled()
    expect(m(1)).toBe(2)
    expect(fn).toHaveBeenCalledTimes(1)
  })
})

describe('perMinute', () => {
  it('builds once per UTC minute, for the first time seen in it', () => {
    const build = vi.fn((ms: number) => `built at ${ms}`)
    const at = perMinute(build)
    const minute = 29_000_000 * 60_000
    expect([at(minute), at(minute + 59_999), at(minute + 60_000), at(minute + 1)]).toEqual([
      `built at ${minute}`,
      `built at ${minute}`,
      `built at ${minute + 60_000}`,
      `built at ${minute + 1}`,
    ])
    expect(build).toHaveBeenCalledTimes(3)
  })
})
