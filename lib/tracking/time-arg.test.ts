// Unit tests of --since/--until times, relative to a "now" the test chooses
// (never the calendar's).
import { describe, expect, it } from 'vitest'

import { parseTimeArg } from './time-arg'

const now = Date.now()

describe('parseTimeArg', () => {
  it('reads relative times back from now', () => {
    expect(parseTimeArg('90s', now)).toBe(now - 90_000)
    expect(parseTimeArg('15m', now)).toBe(now - 900_000)
    expect(parseTimeArg('1h', now)).toBe(now - 3_600_000)
    expect(parseTimeArg('24h', now)).toBe(now - 86_400_000)
    expect(parseTimeArg('7d', now)).toBe(now - 7 * 86_400_000)
    expect(parseTimeArg('2w', now)).toBe(now - 14 * 86_400_000)
  })

  it('reads ISO dates and date-times', () => {
    const t = new Date(now - 3_600_000)
    expect(parseTimeArg(t.toISOString(), now)).toBe(t.getTime())
    const day = t.toISOString().slice(0, 10)
    expect(parseTimeArg(day, now)).toBe(Date.parse(day))
  })

  it('refuses anything else', () => {
    for (const bad of ['yesterday', '1y', '-1h', '', 'h', '2026-13-45', '12:00']) expect(parseTimeArg(bad, now), bad).toBeUndefined()
  })
})
