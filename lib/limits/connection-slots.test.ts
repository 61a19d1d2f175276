// Unit tests for the per-process count of open connections per client address:
// counted per address, released once per connection, nothing kept for addresses
// without an open connection, prototype names are addresses like any other.
import { describe, expect, it } from 'vitest'

import { ConnectionSlots } from './connection-slots'

describe('ConnectionSlots', () => {
  it('counts open connections per address and forgets an address when its last one closes', () => {
    const s = new ConnectionSlots()
    expect([s.take('192.0.2.1'), s.take('192.0.2.1'), s.take('192.0.2.2')]).toEqual([1, 2, 1])
    s.release('192.0.2.1')
    expect(s.count('192.0.2.1')).toBe(1)
    s.release('192.0.2.1')
    s.release('192.0.2.2')
    expect(s.addresses).toBe(0)
  })

  it('keeps prototype names apart from the Map itself', () => {
    const s = new ConnectionSlots()
    expect(s.take('__proto__')).toBe(1)
    expect(s.take('constructor')).toBe(1)
    expect(s.count('toString')).toBe(0)
  })
})
