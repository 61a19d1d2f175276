// The day keys a test spanning midnight UTC must read (dates passed in: no clock).

import { describe, expect, it } from 'vitest'

import { daysSince } from './stats-counters'

describe('daysSince', () => {
  it('is one day within a day', () => {
    expect(daysSince(new Date('2030-03-04T00:00:00Z'), new Date('2030-03-04T23:59:59.999Z'))).toEqual(['2030-03-04'])
  })

  it('is both days when the test runs across midnight UTC', () => {
    expect(daysSince(new Date('2030-03-04T23:59:59.500Z'), new Date('2030-03-05T00:00:00.200Z'))).toEqual(['2030-03-04', '2030-03-05'])
  })

  it('crosses month and year ends', () => {
    expect(daysSince(new Date('2030-12-31T23:00:00Z'), new Date('2031-01-01T01:00:00Z'))).toEqual(['2030-12-31', '2031-01-01'])
  })
})
