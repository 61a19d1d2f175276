// Unit test of gateway-refuse-auth (inbound): AUTH gets 503 5.5.1 instead of Haraka's
// "500 Unrecognized command", other unknown commands are left to Haraka, and the
// credential intake installed at connect_init takes an initial response out of the
// AUTH line before Haraka (and its log) sees it. Declared for inbound only.

import { connection as haraka } from 'haraka-constants'
import { describe, expect, it } from 'vitest'

import { declarationOf, instanceProblem } from '../../lib/plugin/declaration'
import { fakeConnection, pluginHarness } from '../../lib/plugin/testing'
import { RESPONSE_PLACEHOLDER } from '../../lib/submission/credential-intake'
import plugin from './plugin'

const REFUSED = { result: 'DENY', reply: '503 5.5.1 Authentication not available' }

/** A fake connection with what the credential intake wraps: Haraka's process_line and the session state. */
function connectionWithLines() {
  const c = fakeConnection()
  const seen: string[] = []
  Object.assign(c, { state: haraka.state.CMD, process_line: (line: Buffer) => seen.push(line.toString()) })
  return { c, seen, send: (line: string) => (c as unknown as { process_line(l: Buffer): void }).process_line(Buffer.from(`${line}\r\n`)) }
}

describe('gateway-refuse-auth', () => {
  const h = pluginHarness(plugin)

  it('registers both hooks, with no settings', () => {
    expect(h.hooks).toEqual(['connect_init', 'unrecognized_command'])
  })

  it('answers AUTH (any case) with 503 5.5.1', async () => {
    for (const verb of ['AUTH', 'auth', 'Auth']) {
      const c = fakeConnection()
      expect(await h.run('unrecognized_command', c, [verb, 'PLAIN'])).toEqual(REFUSED)
    }
  })

  it('leaves other unknown commands (and prototype names) to Haraka', async () => {
    for (const verb of ['XCLIENT', 'AUTHX', 'constructor', '__proto__', '']) {
      const c = fakeConnection()
      expect(await h.run('unrecognized_command', c, [verb])).toEqual({ result: 'CONT' })
    }
    expect(await h.run('unrecognized_command', fakeConnection(), [])).toEqual({ result: 'CONT' })
  })

  it('takes an initial response out of the AUTH line before Haraka sees it, then refuses', async () => {
    const { c, seen, send } = connectionWithLines()
    expect(await h.run('connect_init', c)).toEqual({ result: 'CONT' })
    send('AUTH PLAIN AHVzZXIAc2VjcmV0')
    send('NOOP')
    expect(seen).toEqual([`AUTH PLAIN ${RESPONSE_PLACEHOLDER}\r\n`, 'NOOP\r\n'])
    expect(seen.join('')).not.toContain('AHVzZXIAc2VjcmV0')
    expect(await h.run('unrecognized_command', c, ['AUTH', `PLAIN ${RESPONSE_PLACEHOLDER}`])).toEqual(REFUSED)
    expect(c.log.join('\n')).not.toContain('AHVzZXIAc2VjcmV0')
  })

  it('leaves message data alone (only command lines are inspected)', async () => {
    const { c, seen, send } = connectionWithLines()
    await h.run('connect_init', c)
    Object.assign(c, { state: haraka.state.DATA })
    send('AUTH PLAIN looks-like-a-credential')
    expect(seen).toEqual(['AUTH PLAIN looks-like-a-credential\r\n'])
  })

  it('runs in the inbound instance only', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound'] })
    expect(instanceProblem(declarationOf(plugin)!, 'outbound')).toBe('runs in the inbound instance only: remove it from the outbound instance')
  })
})
