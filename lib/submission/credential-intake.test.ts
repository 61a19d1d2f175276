// Unit tests for the credential intake: what Haraka's process_line and logdebug
// receive once it is installed on a connection (a stand-in with Haraka's two methods).

import { describe, expect, it } from 'vitest'

import { awaitResponse, installCredentialIntake, lineSummary, RESPONSE_PLACEHOLDER, takeResponse } from './credential-intake'

const CMD = 1
const LOOP = 2
const DATA = 3

function fakeConnection(state = CMD) {
  const seen: string[] = []
  const logged: unknown[][] = []
  const c = {
    state,
    process_line(line: Buffer) {
      seen.push(line.toString('utf8'))
    },
    logdebug(...args: unknown[]) {
      logged.push(args)
    },
  }
  installCredentialIntake(c as unknown as Haraka.Connection)
  const conn = c as unknown as Haraka.Connection & { process_line(l: Buffer): void; logdebug(...a: unknown[]): void; state: number }
  return { conn, seen, logged }
}

describe('credential intake', () => {
  it('takes the initial response out of an AUTH line', () => {
    const { conn, seen } = fakeConnection()
    conn.process_line(Buffer.from('auth plain AGFsaWNlAHNlY3JldA==\r\n'))
    expect(seen).toEqual([`auth plain ${RESPONSE_PLACEHOLDER}\r\n`])
    expect(takeResponse(conn)).toBe('AGFsaWNlAHNlY3JldA==')
    expect(takeResponse(conn)).toBeUndefined() // once
  })

  it('passes an AUTH line without initial response and other commands unchanged', () => {
    const { conn, seen } = fakeConnection()
    conn.process_line(Buffer.from('AUTH LOGIN\r\n'))
    conn.process_line(Buffer.from('MAIL FROM:<a@b.example>\r\n'))
    expect(seen).toEqual(['AUTH LOGIN\r\n', 'MAIL FROM:<a@b.example>\r\n'])
    expect(takeResponse(conn)).toBeUndefined()
  })

  it('takes the whole next line after a 334, whatever it looks like, and only that one', () => {
    const { conn, seen } = fakeConnection()
    awaitResponse(conn)
    conn.process_line(Buffer.from('MAIL FROM:<x@y.example>\r\n'))
    expect(takeResponse(conn)).toBe('MAIL FROM:<x@y.example>')
    conn.process_line(Buffer.from('NOOP\r\n'))
    expect(seen).toEqual([`${RESPONSE_PLACEHOLDER}\r\n`, 'NOOP\r\n'])
  })

  it('forgets a response nobody took when the next line arrives', () => {
    const { conn } = fakeConnection()
    conn.process_line(Buffer.from('AUTH PLAIN c2VjcmV0\r\n'))
    conn.process_line(Buffer.from('NOOP\r\n'))
    expect(takeResponse(conn)).toBeUndefined()
  })

  it('hides initial responses in the LOOP state too (a refused client is still logged)', () => {
    const { conn, seen } = fakeConnection(LOOP)
    conn.process_line(Buffer.from('AUTH PLAIN c2VjcmV0\r\n'))
    expect(seen).toEqual([`AUTH PLAIN ${RESPONSE_PLACEHOLDER}\r\n`])
  })

  it('leaves message data alone', () => {
    const { conn, seen } = fakeConnection(DATA)
    awaitResponse(conn)
    conn.process_line(Buffer.from('AUTH PLAIN c2VjcmV0\r\n'))
    expect(seen).toEqual(['AUTH PLAIN c2VjcmV0\r\n'])
  })

  it('logs pipelined and early lines by their verb only', () => {
    const { conn, logged } = fakeConnection()
    conn.logdebug('pipeline: cGFzc3dvcmQ=\r\n')
    conn.logdebug('pipeline: AUTH PLAIN c2VjcmV0\r\n')
    conn.logdebug('[early_talker]', { state: 5, esmtp: true, line: Buffer.from('c2VjcmV0\r\n') })
    conn.logdebug({ hook: 'rcpt', params: 'kept' })
    expect(logged).toEqual([
      [`pipeline: ${RESPONSE_PLACEHOLDER}`],
      ['pipeline: AUTH [...]'],
      ['[early_talker]', { state: 5, esmtp: true, line: RESPONSE_PLACEHOLDER }],
      [{ hook: 'rcpt', params: 'kept' }],
    ])
  })
})

describe('lineSummary', () => {
  it.each([
    ['QUIT', 'QUIT'],
    ['mail FROM:<a@b>', 'MAIL [...]'],
    ['dXNlcg==', RESPONSE_PLACEHOLDER],
    ['hunter2', RESPONSE_PLACEHOLDER],
    ['', RESPONSE_PLACEHOLDER],
    ['Mailbox', RESPONSE_PLACEHOLDER],
  ])('%j -> %j', (line, summary) => {
    expect(lineSummary(line)).toBe(summary)
  })
})
