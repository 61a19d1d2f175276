// Unit tests of the searched forms of Message-IDs and addresses.
import { describe, expect, it } from 'vitest'

import { canonicalMessageId, indexAddress, messageIdDigest } from './canonical'

describe('canonical search forms', () => {
  it('finds a Message-ID with or without angle brackets, in any case', () => {
    expect(canonicalMessageId(' <Abc.1@Host.Example> ')).toBe('abc.1@host.example')
    expect(messageIdDigest('<Abc.1@Host.Example>')).toBe(messageIdDigest('abc.1@host.example'))
    expect(messageIdDigest('<a@b>')).toMatch(/^[0-9a-f]{32}$/)
    expect(messageIdDigest('<a@b>')).not.toBe(messageIdDigest('<a@c>'))
    expect(canonicalMessageId('<>')).toBeUndefined()
    expect(messageIdDigest('  ')).toBeUndefined()
  })

  it('indexes addresses lower-cased, and not the null sender', () => {
    expect(indexAddress('Alice@Sender.TEST')).toBe('alice@sender.test')
    expect(indexAddress('')).toBeUndefined()
    expect(indexAddress('<>')).toBeUndefined()
  })
})
