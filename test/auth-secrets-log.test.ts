// Relay passwords never reach a log, in any encoding, at any log level (issue 7.2).
// Both instances run at Haraka's most verbose level (data: every protocol line,
// every hook with its parameters); clients log in the ways real ones do (AUTH PLAIN
// with and without an initial response, AUTH LOGIN step by step and with the user
// name up front, pipelined by a careless client, 20 sessions in parallel as an
// internal server opens them), with right and wrong passwords, also in clear text
// and against the inbound instance that never authenticates. Then no password, no
// base64 of it and no PLAIN response, nor any 6-character piece of one, may appear
// anywhere in either instance's output.

import { beforeAll, describe, expect, it } from 'vitest'

import { base64, type SmtpClient, type SmtpReply } from '../lib/smtp/client'
import { addUser, gatewayWithSink } from './helpers/fixtures'

const USER = 'relay@example.com'
// Passwords whose every 6-character piece (also of their base64 forms) has a
// character that is not upper-case hex, so a match in the log can only be the
// secret (uuids and timestamps in the log are digits and upper-case hex).
const PASSWORD = 'Quokka!vT7-wYx9#Ls'
const WRONG = ['Wombat$rR4-kZq8&mp', 'Numbat%jH2+cWe5*qd', 'Bilby^nG6=sPu3~ok']

const VERBOSE = '[main]\nlevel=data\ntimestamps=true\nformat=default\n'

const { gw } = gatewayWithSink({
  instances: ['inbound', 'outbound'],
  files: {
    'inbound/config/log.ini': VERBOSE,
    'outbound/config/log.ini': VERBOSE,
    // not the lockout under test here: enough room for every failed attempt below
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\nmax_failures=10\n[lockout]\nmax_failures_per_ip=1000\nmax_failures_per_user=1000\n',
  },
})

beforeAll(() => addUser(gw, USER, PASSWORD))

/** Every secret form a client sent, and every 6-character piece of each. */
function secretPieces(): string[] {
  const forms = [PASSWORD, ...WRONG].flatMap((pw) => [pw, base64(pw), base64(`\0${USER}\0${pw}`), base64(`${USER}\0${USER}\0${pw}`)])
  const pieces = new Set<string>()
  for (const form of forms) for (let i = 0; i + 6 <= form.length; i++) pieces.add(form.slice(i, i + 6))
  return [...pieces]
}

async function tlsSession(instance: 'inbound' | 'outbound' = 'outbound'): Promise<SmtpClient> {
  const { client } = await gw.connect(instance)
  await client.ehlo()
  expect((await client.startTls()).code).toBe(220)
  await client.ehlo()
  return client
}

type Login = (client: SmtpClient, password: string) => Promise<SmtpReply>

const LOGINS: Record<string, Login> = {
  'PLAIN with initial response': (c, pw) => c.send(`AUTH PLAIN ${base64(`\0${USER}\0${pw}`)}`),
  'PLAIN with initial response and authzid': (c, pw) => c.send(`AUTH PLAIN ${base64(`${USER}\0${USER}\0${pw}`)}`),
  'PLAIN after an empty challenge': async (c, pw) => {
    expect((await c.send('AUTH PLAIN')).code).toBe(334)
    return c.send(base64(`\0${USER}\0${pw}`))
  },
  'LOGIN step by step': async (c, pw) => {
    expect((await c.send('AUTH LOGIN')).code).toBe(334)
    expect((await c.send(base64(USER))).code).toBe(334)
    return c.send(base64(pw))
  },
  'LOGIN with the user name up front': async (c, pw) => {
    expect((await c.send(`AUTH LOGIN ${base64(USER)}`)).code).toBe(334)
    return c.send(base64(pw))
  },
  'LOGIN pipelined by a client that does not wait for the prompts': async (c, pw) => {
    c.write(`AUTH LOGIN\r\n${base64(USER)}\r\n${base64(pw)}\r\n`)
    expect((await c.read()).code).toBe(334)
    expect((await c.read()).code).toBe(334)
    return c.read()
  },
  'PLAIN pipelined behind RSET': async (c, pw) => {
    c.write(`RSET\r\nAUTH PLAIN ${base64(`\0${USER}\0${pw}`)}\r\n`)
    expect((await c.read()).code).toBe(250)
    return c.read()
  },
}

describe('AUTH credentials and the log, at log level data', () => {
  for (const [label, login] of Object.entries(LOGINS)) {
    it(`${label}: right password 235, wrong password 535`, async () => {
      const ok = await tlsSession()
      expect((await login(ok, PASSWORD)).code).toBe(235)
      await ok.quit()
      for (const wrong of WRONG) {
        const bad = await tlsSession()
        const r = await login(bad, wrong)
        expect([r.code, r.enhanced]).toEqual([535, '5.7.8'])
        await bad.quit()
      }
    })
  }

  it('20 parallel sessions of one account with AUTH LOGIN, as an internal server opens them', async () => {
    const codes = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = await tlsSession()
        const r = await LOGINS['LOGIN step by step']!(c, i % 4 === 0 ? WRONG[i % WRONG.length]! : PASSWORD)
        await c.quit()
        return r.code
      }),
    )
    expect(codes.filter((c) => c === 235)).toHaveLength(15)
    expect(codes.filter((c) => c === 535)).toHaveLength(5)
  })

  it('credentials sent in clear text (refused with 530) or to the inbound instance (503) are not logged either', async () => {
    const { client: clear } = await gw.connect('outbound')
    await clear.ehlo()
    expect((await clear.send(`AUTH PLAIN ${base64(`\0${USER}\0${PASSWORD}`)}`)).code).toBe(530)
    expect((await clear.send(`AUTH LOGIN ${base64(PASSWORD)}`)).code).toBe(530)
    await clear.quit()
    for (const inbound of [(await gw.connect('inbound')).client, await tlsSession('inbound')]) {
      await inbound.ehlo()
      for (const line of [`AUTH PLAIN ${base64(`\0${USER}\0${PASSWORD}`)}`, `auth login ${base64(PASSWORD)}`, 'AUTH LOGIN']) {
        const r = await inbound.send(line)
        expect([r.code, r.enhanced]).toEqual([503, '5.5.1'])
      }
      await inbound.quit()
    }
  })

  it('no password, base64 of one, or 6-character piece of either is in either instance output', () => {
    const log = `${gw.log('inbound')}\n${gw.log('outbound')}`
    // the log really is at its most verbose: protocol lines and every hook with its parameters
    expect(log).toMatch(/\[PROTOCOL\] .*C: AUTH PLAIN \[sasl-response\]/)
    expect(log).toMatch(/\[PROTOCOL\] .*C: \[sasl-response\]/)
    expect(log).toMatch(/\[DEBUG\] .*hook=unrecognized_command plugin=tls .*params="?\[sasl-response\]/)
    expect(log).toMatch(/\[gateway-submission-auth\] authenticated "relay@example.com"/)
    const pieces = secretPieces()
    for (const piece of pieces) expect(/[^0-9A-F]/.test(piece), `piece ${piece} could match a uuid`).toBe(true)
    const leaked = pieces.filter((p) => log.includes(p))
    expect(leaked).toEqual([])
  })
})
