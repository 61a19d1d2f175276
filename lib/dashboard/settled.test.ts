// Unit tests for the settled-bucket memory: only unsettled or unknown buckets are read again; node changes and age start over.
import { describe, expect, it } from 'vitest'

import type { Series } from '../report/read'
import { bucketOf } from '../stats/buckets'
import { bucketEnd, MAX_AGE_MS, SettledBuckets } from './settled'

const NOW = Date.UTC(2026, 5, 15, 12, 30, 20)
const hours = [3, 2, 1, 0].map((h) => bucketOf('h', NOW - h * 3_600_000))

/** A reader that records what it was asked for and answers 1 message per bucket. */
function reader() {
  const asked: string[][] = []
  const read = async (buckets: string[]): Promise<Series> => {
    asked.push(buckets)
    return { inbound: new Map(buckets.map((b) => [b, { messages_accepted: 1 }])), outbound: new Map() }
  }
  return { asked, read }
}

describe('SettledBuckets', () => {
  it('names bucket ends in UTC', () => {
    expect(bucketEnd('m', '2026-06-15T12:30')).toBe(Date.UTC(2026, 5, 15, 12, 31))
    expect(bucketEnd('h', '2026-06-15T12')).toBe(Date.UTC(2026, 5, 15, 13))
    expect(bucketEnd('d', '2026-06-15')).toBe(Date.UTC(2026, 5, 16))
  })

  it('reads settled buckets once, the current one every time', async () => {
    const s = new SettledBuckets()
    const r = reader()
    const first = await s.series(['a'], 'h', hours, NOW, r.read)
    expect(first.inbound.size).toBe(4)
    const second = await s.series(['a'], 'h', hours, NOW + 5000, r.read)
    expect(second.inbound.size).toBe(4)
    expect(r.asked).toEqual([hours, [hours[3]]])
  })

  it('starts over when the nodes change or the kept copies grow old', async () => {
    const s = new SettledBuckets()
    const r = reader()
    await s.series(['a'], 'h', hours, NOW, r.read)
    await s.series(['a', 'b'], 'h', hours, NOW, r.read)
    await s.series(['a', 'b'], 'h', hours, NOW + MAX_AGE_MS + 1, r.read)
    expect(r.asked).toEqual([hours, hours, hours])
  })
})
