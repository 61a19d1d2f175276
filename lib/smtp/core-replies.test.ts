// Unit tests of the enhanced codes given to Haraka's own refusals: the texts
// Haraka 3.3.4 really sends (connection.js) map to RFC 3463 codes, a parser's
// diagnosis never reaches the client, replies that have a code keep it.

import { describe, expect, it } from 'vitest'

import { withEnhancedCode } from './core-replies'

describe('withEnhancedCode', () => {
  it("gives Haraka's syntax errors a code and a generic text", () => {
    expect(withEnhancedCode(501, ['Invalid RCPT TO address <"a@b">: Invalid RFC-5321 address at position 27: expected "@"'])).toEqual(['5.1.3 Bad recipient address syntax'])
    expect(withEnhancedCode(501, ['Invalid MAIL FROM address <x@@y>: Invalid RFC-5321 address at position 3'])).toEqual(['5.1.7 Bad sender address syntax'])
    expect(withEnhancedCode(501, ['Command parsing failed', 'Error: unexpected token'])).toEqual(['5.5.4 Syntax error in parameters'])
    expect(withEnhancedCode(501, ['HELO requires domain/address - see RFC-2821 4.1.1.1'])).toEqual(['5.5.4 HELO requires domain/address - see RFC-2821 4.1.1.1'])
  })

  it('codes sequence, command and parameter errors, and DENY defaults', () => {
    expect(withEnhancedCode(500, ['Unrecognized command'])).toEqual(['5.5.2 Unrecognized command'])
    expect(withEnhancedCode(503, ['Use EHLO/HELO before MAIL'])).toEqual(['5.5.1 Use EHLO/HELO before MAIL'])
    expect(withEnhancedCode(555, ['Invalid command parameters'])).toEqual(['5.5.4 Invalid command parameters'])
    expect(withEnhancedCode(550, ['rcpt denied'])).toEqual(['5.7.1 rcpt denied'])
    expect(withEnhancedCode(450, ['mail denied'])).toEqual(['4.7.1 mail denied'])
    expect(withEnhancedCode(521, ['Command line too long'])).toEqual(['5.5.0 Command line too long'])
    expect(withEnhancedCode(599, ['odd'])).toEqual(['5.0.0 odd'])
    expect(withEnhancedCode(459, ['odd'])).toEqual(['4.0.0 odd'])
  })

  it('prefixes every line of a multi-line reply', () => {
    expect(withEnhancedCode(554, ['Your mail is not welcome here', 'go away', ''])).toEqual(['5.7.1 Your mail is not welcome here', '5.7.1 go away'])
  })

  it('leaves replies that have a code of their class, and every reply below 400, alone', () => {
    expect(withEnhancedCode(550, ['5.7.1 Relaying denied'])).toEqual(['5.7.1 Relaying denied'])
    expect(withEnhancedCode(451, ['4.3.0 Temporary local problem'])).toEqual(['4.3.0 Temporary local problem'])
    expect(withEnhancedCode(250, ['Message Queued'])).toEqual(['Message Queued'])
    expect(withEnhancedCode(334, [' '])).toEqual([' '])
    // a code of the wrong class is text, not a code
    expect(withEnhancedCode(550, ['2.0.0 fine'])).toEqual(['5.7.1 2.0.0 fine'])
  })
})
