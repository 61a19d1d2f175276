// Unit tests for the dashboard's range parameter: three ranges, 1h by default, anything else refused.
import { describe, expect, it } from 'vitest'

import { parseRange } from './range'

describe('parseRange', () => {
  it('knows 1h (per minute), 24h and 30d (per hour), 1h by default', () => {
    expect(parseRange(null)).toMatchObject({ name: '1h', step: 'm', ms: 3_600_000 })
    expect(parseRange('24h')).toMatchObject({ name: '24h', step: 'h' })
    expect(parseRange('30d')).toMatchObject({ name: '30d', step: 'h', ms: 30 * 86_400_000 })
  })

  it.each(['', '7d', '1H', '1h ', 'x'.repeat(1000)])('refuses %j', (v) => {
    expect(parseRange(v)).toBeUndefined()
  })
})
