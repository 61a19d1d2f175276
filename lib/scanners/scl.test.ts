// The SCL mapping and the threshold choice: rspamd verdicts at the band edges,
// rspamd's action as a floor, and threshold ordering.

import { describe, expect, it } from 'vitest'

import type { CheckResult } from './rspamd-result'
import { outcomeFor, sclOf, thresholdProblem } from './scl'

const result = (score: number, action = 'no action', symbols: string[] = [], requiredScore = 15): CheckResult => ({ score, requiredScore, action, symbols })

describe('sclOf', () => {
  it('maps clean and negative scores to 0-2', () => {
    expect(sclOf(result(-3))).toBe(0)
    expect(sclOf(result(0))).toBe(0)
    expect(sclOf(result(0.1))).toBe(1)
    expect(sclOf(result(1.49))).toBe(1)
    expect(sclOf(result(1.5))).toBe(2)
    expect(sclOf(result(2.99))).toBe(2)
  })

  it('reads the score relative to required_score, band by band', () => {
    expect([3, 4.5, 6.5, 7.5, 9, 11.9, 12, 14.9, 15, 40].map((s) => sclOf(result(s)))).toEqual([3, 4, 5, 6, 7, 7, 8, 8, 9, 9])
    // the same ratios with a stricter rspamd (reject at 10)
    expect([2, 4, 6, 8, 10].map((s) => sclOf(result(s, 'no action', [], 10)))).toEqual([3, 5, 7, 8, 9])
  })

  it('uses rspamd\'s default reject threshold when none is reported', () => {
    expect(sclOf(result(7.5, 'no action', [], 0))).toBe(6)
  })

  it('is 9 for rspamd\'s reject action and for GTUBE, whatever the score', () => {
    expect(sclOf(result(1, 'reject'))).toBe(9)
    expect(sclOf(result(0, 'no action', ['GTUBE']))).toBe(9)
  })

  it('is at least 5 when rspamd itself would mark the message as spam', () => {
    expect(sclOf(result(2, 'add header'))).toBe(5)
    expect(sclOf(result(2, 'rewrite subject'))).toBe(5)
    expect(sclOf(result(9, 'add header'))).toBe(7)
    // greylisting and rate limits say "later", not "spam"
    expect(sclOf(result(2, 'soft reject'))).toBe(2)
    expect(sclOf(result(4.2, 'greylist'))).toBe(3)
  })
})

describe('outcomeFor', () => {
  const t = { reject: 9, quarantine: 7, tag: 5 }
  it('picks the highest threshold reached, accept below all', () => {
    expect([0, 4, 5, 6, 7, 8, 9].map((scl) => outcomeFor(scl, t))).toEqual(['accept', 'accept', 'tag', 'tag', 'quarantine', 'quarantine', 'reject'])
  })
  it('skips thresholds set to 0', () => {
    expect(outcomeFor(9, { reject: 0, quarantine: 7, tag: 0 })).toBe('quarantine')
    expect(outcomeFor(6, { reject: 0, quarantine: 7, tag: 0 })).toBe('accept')
    expect(outcomeFor(9, { reject: 0, quarantine: 0, tag: 0 })).toBe('accept')
  })
})

describe('thresholdProblem', () => {
  it('accepts rising thresholds, with any of them off', () => {
    expect(thresholdProblem({ reject: 9, quarantine: 7, tag: 5 })).toBeUndefined()
    expect(thresholdProblem({ reject: 9, quarantine: 0, tag: 8 })).toBeUndefined()
    expect(thresholdProblem({ reject: 0, quarantine: 0, tag: 0 })).toBeUndefined()
  })
  it('names the key that is not above the milder one', () => {
    expect(thresholdProblem({ reject: 9, quarantine: 5, tag: 5 })).toMatchObject({ key: 'quarantine' })
    expect(thresholdProblem({ reject: 6, quarantine: 0, tag: 7 })?.key).toBe('reject')
    expect(thresholdProblem({ reject: 6, quarantine: 0, tag: 7 })?.problem).toMatch(/must be above tag \(7\)/)
  })
})
