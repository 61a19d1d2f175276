// Unit test of the reader of Haraka's queue size (outbound/queue get_stats): the
// real Haraka's function is found and answers in the expected format; a fake that
// lacks it, throws or changes the format gives no depth, never an error.

import { describe, expect, it } from 'vitest'

import { harakaPackageRequire } from './internal'
import { queueDepth, queueStatsReader } from './queue-stats'

describe('queue stats reader', () => {
  it("reads the installed Haraka's get_stats as three counts", () => {
    harakaPackageRequire()('./outbound') // loaded first, as in Haraka (outbound/queue alone is a circular require)
    const read = queueStatsReader((p) => harakaPackageRequire()(p))
    expect(read).toBeDefined()
    expect(read!()).toMatch(/^\d+\/\d+\/\d+$/)
    expect(queueDepth(read!)).toBe(0)
  })

  it('sums every state into the depth; anything unexpected is no depth', () => {
    expect(queueDepth(() => '1/20/3')).toBe(24)
    expect(queueDepth(() => 'changed')).toBeUndefined()
    expect(
      queueDepth(() => {
        throw new Error('gone')
      }),
    ).toBeUndefined()
    expect(queueStatsReader(() => ({}))).toBeUndefined()
    expect(queueStatsReader({ haraka_require: () => ({ get_stats: () => '0/1/1' }) })?.()).toBe('0/1/1')
  })
})
