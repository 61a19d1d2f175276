// The SASL PLAIN and LOGIN exchanges of SMTP AUTH (RFC 4954, 4616), as pure
// functions: given the command or the client's next line, what to answer.
// CRAM-MD5 is deliberately absent: it needs the plain password on the server.

import { reply, type Reply } from '../smtp/reply'

export type Mechanism = 'PLAIN' | 'LOGIN'
export const MECHANISMS: readonly Mechanism[] = ['PLAIN', 'LOGIN']

/** Where an unfinished exchange stands, kept in connection notes between lines. */
export type SaslState = { mech: 'PLAIN' } | { mech: 'LOGIN'; user?: string }

export type SaslStep =
  | { kind: 'challenge'; text: string; state: SaslState }
  | { kind: 'credentials'; user: string; password: string; mech: Mechanism }
  | { kind: 'error'; reply: Reply }

const USERNAME_PROMPT = Buffer.from('Username:').toString('base64')
const PASSWORD_PROMPT = Buffer.from('Password:').toString('base64')
const CANCELLED = reply(501, '5.0.0', 'Authentication cancelled')
const UNDECODABLE = reply(501, '5.5.2', 'Cannot decode response')
const UNSUPPORTED = reply(504, '5.5.4', 'Unrecognized authentication type')

/** Strict base64 decoding (Buffer.from silently ignores garbage). */
function decode(b64: string): string | undefined {
  if (b64 === '=') return ''
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined
  return Buffer.from(b64, 'base64').toString('utf8')
}

/** `AUTH <mechanism> [initial-response]`. */
export function startAuth(mechanism: string, initial: string | undefined): SaslStep {
  const mech = mechanism.toUpperCase()
  if (mech === 'PLAIN') {
    return initial === undefined ? { kind: 'challenge', text: '', state: { mech } } : plainResponse(initial.trim())
  }
  if (mech === 'LOGIN') {
    if (initial === undefined) return { kind: 'challenge', text: USERNAME_PROMPT, state: { mech } }
    return continueAuth({ mech }, initial)
  }
  return { kind: 'error', reply: UNSUPPORTED }
}

/** The client's next line of an exchange begun by startAuth. */
export function continueAuth(state: SaslState, line: string): SaslStep {
  if (line.trim() === '*') return { kind: 'error', reply: CANCELLED }
  if (state.mech === 'PLAIN') return plainResponse(line.trim())
  const text = decode(line.trim())
  if (text === undefined) return { kind: 'error', reply: UNDECODABLE }
  if (state.user === undefined) return { kind: 'challenge', text: PASSWORD_PROMPT, state: { mech: 'LOGIN', user: text } }
  return { kind: 'credentials', user: state.user, password: text, mech: 'LOGIN' }
}

function plainResponse(b64: string): SaslStep {
  const text = decode(b64)
  if (text === undefined) return { kind: 'error', reply: UNDECODABLE }
  const parts = text.split('\0')
  if (parts.length !== 3) return { kind: 'error', reply: UNDECODABLE }
  const [authz, user, password] = parts as [string, string, string]
  // Acting for another identity (authzid) is not supported: only "as yourself".
  if (authz !== '' && authz !== user) return { kind: 'error', reply: reply(535, '5.7.8', 'Authentication credentials invalid') }
  return { kind: 'credentials', user, password, mech: 'PLAIN' }
}
