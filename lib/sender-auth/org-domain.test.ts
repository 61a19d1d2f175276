import { describe, expect, it } from 'vitest'

import { isAligned, organizationalDomain } from './org-domain'

describe('organizationalDomain', () => {
  it('uses the public suffix list, private suffixes included', () => {
    expect(organizationalDomain('a.b.example.co.uk')).toBe('example.co.uk')
    expect(organizationalDomain('news.example.com')).toBe('example.com')
    expect(organizationalDomain('alice.github.io')).toBe('alice.github.io')
  })

  it('applies the default rule to unknown suffixes', () => {
    expect(organizationalDomain('mail.sender.test')).toBe('sender.test')
  })
})

describe('isAligned', () => {
  it('relaxed: same organizational domain', () => {
    expect(isAligned('news.example.com', 'mail.example.com', 'relaxed')).toBe(true)
    expect(isAligned('example.com', 'example.net', 'relaxed')).toBe(false)
    expect(isAligned('alice.github.io', 'mallory.github.io', 'relaxed')).toBe(false)
  })

  it('strict: the very same domain', () => {
    expect(isAligned('example.com', 'example.com', 'strict')).toBe(true)
    expect(isAligned('news.example.com', 'example.com', 'strict')).toBe(false)
    expect(isAligned('example.com', 'news.example.com', 'strict')).toBe(false)
  })
})
