// Unit test of the observer point: listeners get every count, stop when asked,
// and a throwing listener never reaches the caller (the mail path).

import { describe, expect, it } from 'vitest'

import { notifyCount, observeCounts } from './observe'

describe('observeCounts / notifyCount', () => {
  it('hands each count to every listener until it stops', () => {
    const seen: [string, number][] = []
    const stop = observeCounts((f, by) => seen.push([f, by]))
    const stopBroken = observeCounts(() => {
      throw new Error('broken listener')
    })
    expect(() => notifyCount('connections', 1)).not.toThrow()
    stop()
    notifyCount('connections', 2)
    stopBroken()
    expect(seen).toEqual([['connections', 1]])
  })

  it('treats the same function observed twice as two subscriptions', () => {
    let n = 0
    const l = () => n++
    const a = observeCounts(l)
    const b = observeCounts(l)
    notifyCount('x', 1)
    a()
    notifyCount('x', 1)
    b()
    notifyCount('x', 1)
    expect(n).toBe(3)
  })
})
