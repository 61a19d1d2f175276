// The per-process DATA budget: counting, the two limits, and release by liveness.

import { describe, expect, it } from 'vitest'

import { DataBudget, declaredSize, type Transfer } from './data-budget'

/** A transfer whose size and liveness the test moves by hand, as Haraka would. */
function transfer(bytes = 0): Transfer & { received: number; ended: boolean } {
  return {
    received: bytes,
    ended: false,
    bytes() {
      return this.received
    },
    live() {
      return !this.ended
    },
  }
}

describe('DataBudget', () => {
  it('refuses the transfer over max_concurrent_data and takes one again once a transfer ended', () => {
    const b = new DataBudget({ maxTransfers: 2, maxBytes: 0 })
    const [t1, t2] = [transfer(), transfer()]
    for (const t of [t1, t2]) {
      expect(b.check(0)).toBeUndefined()
      b.hold(t)
    }
    expect(b.check(0)).toEqual({ result: 'concurrent_data', detail: '2 transfers in progress, limit 2' })
    t1.ended = true // RSET, disconnect, 250: whatever ended it, the budget sees it gone
    expect(b.check(0)).toBeUndefined()
    expect(b.usage()).toEqual({ transfers: 1, bytes: 0 })
  })

  it('does not count transfers at MAIL (only at DATA)', () => {
    const b = new DataBudget({ maxTransfers: 1, maxBytes: 0 })
    b.hold(transfer())
    expect(b.check(10, { transfers: false })).toBeUndefined()
  })

  it('counts bytes as received so far, and refuses a declared size that does not fit', () => {
    const b = new DataBudget({ maxTransfers: 0, maxBytes: 1000 })
    const t = transfer(100)
    b.hold(t)
    expect(b.check(900)).toBeUndefined()
    expect(b.check(901)).toEqual({ result: 'inflight_bytes', detail: '100 bytes in flight + 901 declared, limit 1000' })
    t.received = 1000 // the transfer grew while under way
    expect(b.check(0)?.result).toBe('inflight_bytes')
    t.ended = true
    expect(b.usage()).toEqual({ transfers: 0, bytes: 0 })
  })

  it('takes a message larger than the whole budget when nothing else is in flight', () => {
    const b = new DataBudget({ maxTransfers: 0, maxBytes: 1000 })
    expect(b.check(5000)).toBeUndefined()
    b.hold(transfer(5000))
    expect(b.check(1)?.result).toBe('inflight_bytes')
  })

  it('forgets a released transfer at once', () => {
    const b = new DataBudget({ maxTransfers: 1, maxBytes: 0 })
    const t = transfer()
    b.hold(t)
    b.release(t)
    expect(b.usage().transfers).toBe(0)
  })
})

describe('declaredSize', () => {
  it('reads SIZE as an own property only, positive whole numbers only', () => {
    expect(declaredSize({ SIZE: '12345' })).toBe(12345)
    expect(declaredSize({})).toBe(0)
    expect(declaredSize(undefined)).toBe(0)
    expect(declaredSize({ SIZE: null })).toBe(0)
    expect(declaredSize({ SIZE: '-5' })).toBe(0)
    expect(declaredSize({ SIZE: '1e3' })).toBe(1000)
    expect(declaredSize({ SIZE: 'abc' })).toBe(0)
    expect(declaredSize({ SIZE: '99999999999999999999' })).toBe(0)
    expect(declaredSize(Object.create({ SIZE: '5' }) as Record<string, unknown>)).toBe(0)
  })
})
