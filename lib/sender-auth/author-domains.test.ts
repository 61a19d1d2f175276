import { describe, expect, it } from 'vitest'

import { authorDomains } from './author-domains'

describe('authorDomains', () => {
  it('takes the domain of each From address, normalized and without duplicates', () => {
    expect(authorDomains(['"Alice" <alice@Mail.Example.COM>'])).toEqual(['mail.example.com'])
    expect(authorDomains(['a@x.test, b@y.test, c@X.test'])).toEqual(['x.test', 'y.test'])
    expect(authorDomains(['a@x.test', 'b@y.test'])).toEqual(['x.test', 'y.test'])
  })

  it('ignores an address in the display name', () => {
    expect(authorDomains(['"ceo@bank.test" <mallory@evil.test>'])).toEqual(['evil.test'])
  })

  it('still finds the domain when the field does not parse, so a syntax error cannot switch DMARC off', () => {
    expect(authorDomains(['"Bank" <alerts@bank.test'])).toEqual(['bank.test'])
    expect(authorDomains(['Bank <alerts@bank.test> <x'])).toEqual(['bank.test'])
  })

  it('is empty without a usable address', () => {
    expect(authorDomains([])).toEqual([])
    expect(authorDomains(['undisclosed'])).toEqual([])
  })
})
