// Unit tests for the Redis key names (RedisKeys) and the UTC day bucket (dayOf).
import { describe, expect, it } from 'vitest'

import { RedisKeys, dayOf, isoMinuteOf } from './keys'

describe('RedisKeys', () => {
  it('builds "<prefix>:stats:<direction>:<day>" keys', () => {
    const keys = new RedisKeys('gw')
    expect(keys.prefix).toBe('gw')
    expect(keys.stats('inbound', '2024-03-05')).toBe('gw:stats:inbound:2024-03-05')
    expect(keys.stats('outbound', '2024-12-31')).toBe('gw:stats:outbound:2024-12-31')
  })

  it('builds a pattern matching every stats key of one direction', () => {
    expect(new RedisKeys('test-1').statsPattern('outbound')).toBe('test-1:stats:outbound:*')
  })

  it('keeps gateways with different prefixes apart', () => {
    expect(new RedisKeys('a').stats('inbound', '2024-01-01')).not.toBe(new RedisKeys('b').stats('inbound', '2024-01-01'))
  })
})

describe('dayOf', () => {
  it('is the UTC calendar day as YYYY-MM-DD', () => {
    expect(dayOf(new Date('2024-03-05T12:00:00Z'))).toBe('2024-03-05')
    expect(dayOf(new Date(Date.UTC(2024, 0, 1, 0, 0, 0)))).toBe('2024-01-01')
    expect(dayOf(new Date(Date.UTC(2024, 11, 31, 23, 59, 59, 999)))).toBe('2024-12-31')
  })

  it('uses UTC, not the local time zone', () => {
    // 23:30 in New York on March 5th is already March 6th in UTC
    expect(dayOf(new Date('2024-03-05T23:30:00-05:00'))).toBe('2024-03-06')
    expect(dayOf(new Date('2024-03-06T00:30:00+02:00'))).toBe('2024-03-05')
  })

  it('answers right when calls go back and forth across midnight (it remembers the last minute)', () => {
    const midnight = Date.UTC(2024, 2, 6)
    for (let i = 0; i < 3; i++) {
      expect(dayOf(new Date(midnight - 1))).toBe('2024-03-05')
      expect(dayOf(new Date(midnight))).toBe('2024-03-06')
    }
    expect(isoMinuteOf(midnight - 1)).toBe('2024-03-05T23:59:00.000Z')
    expect(isoMinuteOf(-1)).toBe('1969-12-31T23:59:00.000Z')
    expect(() => dayOf(new Date(Number.NaN))).toThrow(RangeError)
  })
})
