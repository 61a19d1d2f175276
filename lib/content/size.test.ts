// Unit tests for the SIZE parameter of MAIL FROM and the [max] bytes value as Haraka's config returns it.
import { describe, expect, it } from 'vitest'

import { declaredSize, maxMessageBytes } from './size'

describe('declaredSize', () => {
  it.each([
    ['FROM:<a@b.test> SIZE=1000', 1000],
    ['FROM:<a@b.test> BODY=8BITMIME size=42', 42],
    ['FROM:<> SIZE=0', 0],
    ['FROM:<a@b.test>', undefined],
    ['FROM:<a@b.test> SIZE=abc', undefined],
    ['FROM:<a@b.test> SIZE=', undefined],
    ['FROM:<"x SIZE=99"@b.test>', undefined],
    ['TO:<a@b.test> SIZE=5', undefined], // not a MAIL command: Haraka's to answer
  ])('%j -> %j', (line, size) => {
    expect(declaredSize(line)).toBe(size)
  })
})

describe('maxMessageBytes', () => {
  it('reads [max] bytes as a number; missing or 0 means no limit', () => {
    expect(maxMessageBytes({ max: { bytes: 26214400 } })).toBe(26214400)
    expect(maxMessageBytes({ max: { bytes: '1000' } })).toBe(1000)
    expect(maxMessageBytes({ max: {} })).toBe(0)
    expect(maxMessageBytes(undefined)).toBe(0)
    expect(maxMessageBytes({ max: { bytes: 'lots' } })).toBe(0)
  })
})
