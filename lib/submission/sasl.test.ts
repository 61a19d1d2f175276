// Unit tests for the SASL PLAIN and LOGIN exchanges of SMTP AUTH (startAuth, continueAuth).
import { describe, expect, it } from 'vitest'

import { MECHANISMS, continueAuth, startAuth, type SaslStep } from './sasl'

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
const USERNAME_PROMPT = b64('Username:')
const PASSWORD_PROMPT = b64('Password:')

/** The reply of an error step, as "code enhanced text". */
function errorOf(step: SaslStep): string {
  if (step.kind !== 'error') throw new Error(`expected an error step, got ${step.kind}`)
  return `${step.reply.code} ${step.reply.enhanced} ${step.reply.text}`
}

describe('MECHANISMS', () => {
  it('offers PLAIN and LOGIN only', () => {
    expect(MECHANISMS).toEqual(['PLAIN', 'LOGIN'])
  })
})

describe('PLAIN', () => {
  it('accepts an initial response', () => {
    expect(startAuth('PLAIN', b64('\0alice\0s3cret'))).toEqual({ kind: 'credentials', user: 'alice', password: 's3cret', mech: 'PLAIN' })
  })

  it('is case-insensitive about the mechanism name', () => {
    expect(startAuth('plain', b64('\0alice\0pw'))).toEqual({ kind: 'credentials', user: 'alice', password: 'pw', mech: 'PLAIN' })
  })

  it('sends an empty challenge without an initial response, then takes the response', () => {
    const first = startAuth('PLAIN', undefined)
    expect(first).toEqual({ kind: 'challenge', text: '', state: { mech: 'PLAIN' } })
    if (first.kind !== 'challenge') return
    expect(continueAuth(first.state, `${b64('\0bob\0pa ss:word')}\r\n`)).toEqual({
      kind: 'credentials',
      user: 'bob',
      password: 'pa ss:word',
      mech: 'PLAIN',
    })
  })

  it('accepts an authzid equal to the authcid', () => {
    expect(startAuth('PLAIN', b64('alice\0alice\0pw'))).toEqual({ kind: 'credentials', user: 'alice', password: 'pw', mech: 'PLAIN' })
  })

  it('refuses to act for another identity: 535 5.7.8', () => {
    expect(errorOf(startAuth('PLAIN', b64('admin\0alice\0pw')))).toBe('535 5.7.8 Authentication credentials invalid')
  })

  it('keeps non-ASCII passwords intact', () => {
    const step = startAuth('PLAIN', b64('\0jörg\0pässwörd€'))
    expect(step).toMatchObject({ kind: 'credentials', user: 'jörg', password: 'pässwörd€' })
  })

  it('rejects invalid base64 with 501 5.5.2', () => {
    expect(errorOf(startAuth('PLAIN', 'not*base64'))).toBe('501 5.5.2 Cannot decode response')
    expect(errorOf(continueAuth({ mech: 'PLAIN' }, 'AAA'))).toBe('501 5.5.2 Cannot decode response')
  })

  it('rejects a response that is not authzid\\0authcid\\0password with 501 5.5.2', () => {
    expect(errorOf(startAuth('PLAIN', b64('alice:pw')))).toBe('501 5.5.2 Cannot decode response')
    expect(errorOf(startAuth('PLAIN', b64('\0a\0b\0c')))).toBe('501 5.5.2 Cannot decode response')
    // "=" is an empty initial response: nothing to log in with
    expect(errorOf(startAuth('PLAIN', '='))).toBe('501 5.5.2 Cannot decode response')
  })

  it('is cancelled by "*" with 501 5.0.0', () => {
    expect(errorOf(continueAuth({ mech: 'PLAIN' }, '*'))).toBe('501 5.0.0 Authentication cancelled')
    expect(errorOf(continueAuth({ mech: 'PLAIN' }, ' *\r\n'))).toBe('501 5.0.0 Authentication cancelled')
  })
})

describe('LOGIN', () => {
  it('asks for the user name, then the password (base64 prompts)', () => {
    const first = startAuth('LOGIN', undefined)
    expect(first).toEqual({ kind: 'challenge', text: USERNAME_PROMPT, state: { mech: 'LOGIN' } })
    if (first.kind !== 'challenge') return
    const second = continueAuth(first.state, b64('alice'))
    expect(second).toEqual({ kind: 'challenge', text: PASSWORD_PROMPT, state: { mech: 'LOGIN', user: 'alice' } })
    if (second.kind !== 'challenge') return
    expect(continueAuth(second.state, b64('s3cret'))).toEqual({ kind: 'credentials', user: 'alice', password: 's3cret', mech: 'LOGIN' })
  })

  it('takes the user name as initial response and asks only for the password', () => {
    const first = startAuth('login', b64('alice'))
    expect(first).toEqual({ kind: 'challenge', text: PASSWORD_PROMPT, state: { mech: 'LOGIN', user: 'alice' } })
    if (first.kind !== 'challenge') return
    expect(continueAuth(first.state, b64('pw'))).toEqual({ kind: 'credentials', user: 'alice', password: 'pw', mech: 'LOGIN' })
  })

  it('is cancelled by "*" at either step with 501 5.0.0', () => {
    expect(errorOf(continueAuth({ mech: 'LOGIN' }, '*'))).toBe('501 5.0.0 Authentication cancelled')
    expect(errorOf(continueAuth({ mech: 'LOGIN', user: 'alice' }, '*'))).toBe('501 5.0.0 Authentication cancelled')
    expect(errorOf(startAuth('LOGIN', '*'))).toBe('501 5.0.0 Authentication cancelled')
  })

  it('rejects invalid base64 with 501 5.5.2', () => {
    expect(errorOf(continueAuth({ mech: 'LOGIN' }, 'a@b'))).toBe('501 5.5.2 Cannot decode response')
    expect(errorOf(continueAuth({ mech: 'LOGIN', user: 'alice' }, 'YWJj='))).toBe('501 5.5.2 Cannot decode response')
    expect(errorOf(startAuth('LOGIN', '!!!!'))).toBe('501 5.5.2 Cannot decode response')
  })
})

describe('unsupported mechanisms', () => {
  it.each([
    ['CRAM-MD5', undefined],
    ['CRAM-MD5', 'abc'],
    ['DIGEST-MD5', undefined],
    ['XOAUTH2', 'token'],
    ['', undefined],
  ])('answers %j with 504 5.5.4', (mech, initial) => {
    expect(errorOf(startAuth(mech, initial))).toBe('504 5.5.4 Unrecognized authentication type')
  })
})
