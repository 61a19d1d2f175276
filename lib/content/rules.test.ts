// Unit tests for content rules: pattern compilation and bounded matching of headers and text parts.
import { describe, expect, it } from 'vitest'

import { compilePattern, matchingRules, type ContentRule } from './rules'

const rule = (name: string, target: ContentRule['target'], pattern: string, flags = ''): ContentRule => ({
  name,
  target,
  regex: compilePattern(pattern, flags),
  action: 'tag',
  tag: '',
})

describe('compilePattern', () => {
  it('compiles with the allowed flags only', () => {
    expect(compilePattern('a.b', 's').flags).toBe('s')
    expect(() => compilePattern('a', 'y')).toThrow('flag "y"')
    expect(() => compilePattern('[', '')).toThrow('invalid regular expression')
  })
})

describe('matchingRules', () => {
  const rules = [
    rule('subject', { kind: 'header', header: 'Subject' }, 'wire transfer', 'i'),
    rule('body', { kind: 'body' }, 'gift cards?'),
    rule('late', { kind: 'body' }, 'needle'),
  ]
  const headers = new Map([['Subject', 'URGENT: Wire Transfer needed']])
  const header = (name: string) => headers.get(name) ?? ''

  it('matches headers and any text part, in configuration order', () => {
    expect(matchingRules(rules, { header, texts: ['hello', 'buy gift cards now'] }, 1000).map((r) => r.name)).toEqual(['subject', 'body'])
    expect(matchingRules(rules, { header: () => '', texts: [] }, 1000)).toEqual([])
  })

  it('searches only the first maxChars of each text', () => {
    const text = `${'x'.repeat(500)}needle`
    expect(matchingRules(rules, { header: () => '', texts: [text] }, 1000).map((r) => r.name)).toEqual(['late'])
    expect(matchingRules(rules, { header: () => '', texts: [text] }, 500)).toEqual([])
  })
})
