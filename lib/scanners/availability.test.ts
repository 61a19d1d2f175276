// Unit tests for the scanner outage log levels: one ERROR per outage, none for an engine announced OFF.
import { describe, expect, it } from 'vitest'

import { Availability } from './availability'

describe('Availability', () => {
  it('an outage is one ERROR, then INFO per message, and its end is said once', () => {
    const a = new Availability(false)
    expect([a.failed(), a.failed(), a.failed()]).toEqual(['error', 'info', 'info'])
    expect([a.answered(), a.answered()]).toEqual([true, false])
    expect(a.failed()).toBe('error') // a new outage
  })

  it('an engine announced OFF at start logs no ERROR while it stays off', () => {
    const a = new Availability(true)
    expect([a.failed(), a.failed()]).toEqual(['info', 'info'])
  })

  it('an engine announced OFF that appears later: said once, and a later outage is an ERROR again', () => {
    const a = new Availability(true)
    expect(a.answered()).toBe(true)
    expect(a.answered()).toBe(false)
    expect(a.failed()).toBe('error')
  })
})
