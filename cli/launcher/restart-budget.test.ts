import { describe, expect, it } from 'vitest'

import { RestartBudget } from './restart-budget'

describe('RestartBudget', () => {
  it('backs off (doubling, capped) and refuses once max restarts fall within the window', () => {
    const b = new RestartBudget(3, 60_000, 1000, 3000)
    expect(b.next(0)).toEqual({ nth: 1, delayMs: 1000 })
    expect(b.next(10_000)).toEqual({ nth: 2, delayMs: 2000 })
    expect(b.next(20_000)).toEqual({ nth: 3, delayMs: 3000 })
    expect(b.next(30_000)).toBeUndefined()
  })

  it('forgets restarts older than the window', () => {
    const b = new RestartBudget(2, 60_000)
    b.next(0)
    b.next(1000)
    expect(b.next(59_999)).toBeUndefined()
    expect(b.next(60_000)).toEqual({ nth: 2, delayMs: 2000 })
  })
})
