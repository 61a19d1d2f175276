// Unit tests for the plugin adapter (define.ts + run-hook.ts), without Haraka:
// every hook settles Haraka's `next` exactly once; a throw, a rejection, a
// timeout or a result Haraka cannot take becomes the hook's failure answer (451
// 4.3.0 for SMTP hooks) with a log line naming plugin and hook; observers never
// change the outcome; queue hooks answer with their declared failure verdict;
// and a plugin is refused in the wrong instance, out of order or with bad settings.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import * as constants from 'haraka-constants'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { ConfigError } from '../config/errors'
import { field } from '../config/schema'
import { declarationOf } from './declaration'
import { definePlugin, definitionOf, hookMethod, installHooks, startPlugin, type HookMethod } from './define'
import type { HookName } from './hooks'
import { fakeConnection, fakeQueuedMail, fakeTransaction, pluginHarness } from './testing'
import { acceptAndStop, CONT, delay, DROP, reject, type Verdict } from './verdict'

const plugin = { name: 'test-plugin' }
const LOCAL_ERROR = '451 4.3.0 Temporary local problem, please try again later'

// Timeouts run on fake timers: the whole file takes milliseconds.
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** Calls one hook through the adapter; resolves with every `next` call made within `settleMs` (fake time). */
async function call(hook: HookName, handler: unknown, subject: unknown, params?: unknown, timeoutMs = 50, settleMs = 80) {
  const next = vi.fn<Haraka.Next>()
  hookMethod(plugin, hook, handler, timeoutMs)(next, subject, params)
  await vi.advanceTimersByTimeAsync(settleMs)
  return next.mock.calls.map(([code, msg]) => answer(code, msg))
}

/** Haraka's result name, and the reply a client sees (from the DSN) or the payload. */
function answer(code: number | undefined, msg: unknown) {
  const result = constants.translate(code ?? constants.cont)
  const dsn = msg as { code?: number; reply?: string } | undefined
  if (dsn && typeof dsn === 'object' && typeof dsn.reply === 'string') return { result, reply: `${dsn.code} ${dsn.reply}` }
  return msg === undefined ? { result } : { result, value: msg }
}

function withTransaction() {
  const c = fakeConnection()
  fakeTransaction(c, { from: 'a@sender.test', to: ['b@example.com'] })
  return c
}

describe('SMTP hooks settle next exactly once', () => {
  it('with the verdict, sync or async', async () => {
    const c = withTransaction()
    expect(await call('rcpt', () => reject(550, '5.7.1', 'No'), c)).toEqual([{ result: 'DENY', reply: '550 5.7.1 No' }])
    expect(await call('rcpt', async () => acceptAndStop(), c)).toEqual([{ result: 'OK' }])
    expect(await call('helo', () => undefined, c, 'client.test')).toEqual([{ result: 'CONT' }])
    expect(await call('connect', () => reject(554, '5.7.1', 'Bye', { disconnect: true }), c)).toEqual([{ result: 'DENYDISCONNECT', reply: '554 5.7.1 Bye' }])
    expect(c.log.filter((l) => l.startsWith('ERROR'))).toEqual([])
  })

  const failing: [string, () => unknown, RegExp][] = [
    ['throws', (): never => { throw new Error('boom (sync)') }, /^ERROR \[test-plugin\] hook rcpt failed: Error: boom \(sync\)/],
    ['rejects', () => Promise.reject(new Error('boom (async)')), /^ERROR \[test-plugin\] hook rcpt failed: Error: boom \(async\)/],
    ['never finishes', () => new Promise(() => {}), /^ERROR \[test-plugin\] hook rcpt timed out after 50 ms$/],
    ['returns what is not a verdict', () => 'OK', /^ERROR \[test-plugin\] hook rcpt returned "OK", not a Verdict$/],
  ]
  it.each(failing)('a hook that %s gets 451 4.3.0, a log line naming plugin and hook, and an error result', async (_what, handler, logged) => {
    const c = withTransaction()
    expect(await call('rcpt', handler, c)).toEqual([{ result: 'DENYSOFT', reply: LOCAL_ERROR }])
    expect(c.log).toHaveLength(1)
    expect(c.log[0]).toMatch(logged)
    expect(c.results.get('test-plugin')?.err).toEqual([expect.stringMatching(/^rcpt: /)])
  })

  it('a hook that answers at once is handed over at once, with no timer armed; one that awaits has its timeout armed', () => {
    const c = withTransaction()
    const next = vi.fn<Haraka.Next>()
    hookMethod(plugin, 'rcpt', () => reject(550, '5.7.1', 'No'), 50)(next, c)
    expect(next).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
    hookMethod(plugin, 'rcpt', async () => undefined, 50)(vi.fn<Haraka.Next>(), c)
    expect(vi.getTimerCount()).toBe(1)
  })

  it('a verdict after the timeout is ignored (no second next)', async () => {
    const c = withTransaction()
    const late = () => new Promise<Verdict>((resolve) => setTimeout(() => resolve(acceptAndStop()), 30))
    expect(await call('rcpt', late, c, undefined, 10, 60)).toEqual([{ result: 'DENYSOFT', reply: LOCAL_ERROR }])
  })

  it('a throw inside Haraka after the verdict is logged, not thrown again and not answered twice', async () => {
    const c = withTransaction()
    const next = vi.fn(() => {
      throw new Error('connection closed')
    })
    hookMethod(plugin, 'rcpt', () => undefined, 50)(next, c)
    await vi.advanceTimersByTimeAsync(80)
    expect(next).toHaveBeenCalledTimes(1)
    expect(c.log).toEqual([expect.stringMatching(/^ERROR \[test-plugin\] hook rcpt: Haraka failed after the verdict: Error: connection closed/)])
  })
})

describe('transaction hooks', () => {
  it('get the transaction as their second argument, and the hook parameters after it', async () => {
    const c = withTransaction()
    const seen: unknown[] = []
    await call('rcpt', (_c: unknown, txn: Haraka.Transaction, [rcpt]: [Haraka.Address]) => void seen.push(txn.uuid, rcpt.address), c, [c.transaction!.rcpt_to[0], {}])
    expect(seen).toEqual([c.transaction!.uuid, 'b@example.com'])
  })

  it('keep the transaction they were called with, also when Haraka resets it during an await', async () => {
    const c = withTransaction()
    const txn = c.transaction!
    let seen: Haraka.Transaction | undefined
    const handler = async (conn: Haraka.Connection, t: Haraka.Transaction) => {
      conn.transaction = null
      await Promise.resolve()
      seen = t
    }
    expect(await call('data_post', handler, c)).toEqual([{ result: 'CONT' }])
    expect(seen).toBe(txn)
  })

  it('called without a transaction: 451 and a log line, the handler never runs', async () => {
    const c = fakeConnection()
    const handler = vi.fn()
    expect(await call('mail', handler, c)).toEqual([{ result: 'DENYSOFT', reply: LOCAL_ERROR }])
    expect(handler).not.toHaveBeenCalled()
    expect(c.log).toEqual([expect.stringMatching(/^ERROR \[test-plugin\] hook mail failed: Error: called without a transaction/)])
  })
})

describe('observe-only hooks', () => {
  it.each(['connect_init', 'disconnect', 'deny'] as const)('%s: a failure is logged and the hook passes', async (hook) => {
    const c = fakeConnection()
    expect(await call(hook, () => Promise.reject(new Error('counter down')), c)).toEqual([{ result: 'CONT' }])
    expect(c.log).toEqual([expect.stringMatching(new RegExp(`^ERROR \\[test-plugin\\] hook ${hook} failed: Error: counter down`))])
  })

  it('a verdict returned by an observer changes nothing', async () => {
    const c = withTransaction()
    expect(await call('queue_ok', () => reject(550, '5.0.0', 'x'), c, 'queued')).toEqual([{ result: 'CONT' }])
  })

  it('pre_send_trans_email gets the queueing context and its transaction; a failure is logged, the message still queued', async () => {
    const c = withTransaction()
    const ctx = { transaction: c.transaction, loginfo: c.loginfo, lognotice: c.lognotice, logerror: c.logerror }
    let seen: unknown
    expect(await call('pre_send_trans_email', (_ctx: unknown, txn: unknown) => void (seen = txn), ctx)).toEqual([{ result: 'CONT' }])
    expect(seen).toBe(c.transaction)
    expect(await call('pre_send_trans_email', (): never => { throw new Error('scrub failed') }, ctx)).toEqual([{ result: 'CONT' }])
    expect(c.log).toEqual([expect.stringMatching(/^ERROR \[test-plugin\] hook pre_send_trans_email failed: Error: scrub failed/)])
  })
})

describe('delivery-queue hooks', () => {
  const hmail = () => fakeQueuedMail({ domain: 'partner.test' })

  it('send_email: cont, or delay without counting an attempt (seconds as text)', async () => {
    expect(await call('send_email', { run: () => CONT, onFailure: CONT }, hmail())).toEqual([{ result: 'CONT' }])
    expect(await call('send_email', { run: () => delay(60), onFailure: CONT }, hmail())).toEqual([{ result: 'DELAY', value: '60' }])
  })

  it('deferred and bounce: drop is OK (discard); delay means nothing there and continues', async () => {
    expect(await call('bounce', { run: () => DROP, onFailure: CONT }, hmail(), new Error('550'))).toEqual([{ result: 'OK' }])
    expect(await call('deferred', { run: () => delay(5), onFailure: CONT }, hmail(), { delay: 5, err: 'x' })).toEqual([{ result: 'CONT' }])
  })

  it('a failing queue hook answers with its declared onFailure and logs against the queued message', async () => {
    const m = hmail()
    expect(await call('bounce', { run: (): never => { throw new Error('no route') }, onFailure: DROP }, m)).toEqual([{ result: 'OK' }])
    expect(await call('send_email', { run: () => new Promise(() => {}), onFailure: delay(30) }, m, undefined, 20, 60)).toEqual([{ result: 'DELAY', value: '30' }])
    expect(await call('deferred', { run: () => undefined, onFailure: CONT }, m)).toEqual([{ result: 'CONT' }])
    expect(m.log).toEqual([
      expect.stringMatching(/^ERROR \[test-plugin\] hook bounce failed: Error: no route/),
      'ERROR [test-plugin] hook send_email timed out after 20 ms',
      'ERROR [test-plugin] hook deferred returned undefined, not a QueueVerdict',
    ])
  })

  it('get_mx answers with an MX list, or fails as a temporary failure (delivery retried)', async () => {
    const mx = [{ exchange: '127.0.0.1', port: 2526 }]
    expect(await call('get_mx', () => acceptAndStop(mx), hmail(), 'example.com')).toEqual([{ result: 'OK', value: mx }])
    expect(await call('get_mx', (): never => { throw new Error('dns') }, hmail(), 'example.com')).toEqual([{ result: 'DENYSOFT', reply: LOCAL_ERROR }])
  })
})

describe('definePlugin', () => {
  const schema = { main: { limit: field.int({ default: 3, min: 1 }) } }
  const sample = definePlugin({
    name: 'test-sample',
    instances: ['inbound'],
    hooks: ['rcpt', 'disconnect'],
    config: schema,
    order: { after: { 'test-first': 'it reads what test-first records' } },
    setup: ({ config }) => ({
      hooks: config.main.limit > 5 ? {} : { rcpt: () => undefined },
    }),
  })

  it('exposes its declaration to check-config, not to Haraka (which copies enumerable exports only)', () => {
    expect(Object.keys(sample)).toEqual(['register', 'shutdown'])
    expect(declarationOf(sample)).toMatchObject({ name: 'test-sample', instances: ['inbound'], hooks: ['rcpt', 'disconnect'] })
    expect(declarationOf({ register() {} })).toBeUndefined()
  })

  it('registers only the hooks setup() returned, through the same adapter', async () => {
    expect(pluginHarness(sample).hooks).toEqual(['rcpt'])
    expect(pluginHarness(sample, { ini: '[main]\nlimit=9\n' }).hooks).toEqual([])
  })

  it("answers by Haraka's configured plugin timeout when it is shorter, and switches Haraka's own per-call timer off", async () => {
    const registered: string[] = []
    const harakaPlugin = { name: 'test-sample', timeout: 2, register_hook: (hook: string) => registered.push(hook), logerror: vi.fn() } as unknown as Haraka.Plugin
    installHooks(harakaPlugin, declarationOf(sample)!, { hooks: { rcpt: () => new Promise(() => {}) } })
    expect([registered, harakaPlugin.timeout]).toEqual([['rcpt'], 0])
    const next = vi.fn<Haraka.Next>()
    ;(harakaPlugin['gateway_rcpt'] as HookMethod)(next, withTransaction(), [])
    await vi.advanceTimersByTimeAsync(1999)
    expect(next).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(next.mock.calls.map(([code, msg]) => answer(code, msg))).toEqual([{ result: 'DENYSOFT', reply: LOCAL_ERROR }])
  })

  it('refuses a declaration that cannot be right when the module loads', () => {
    const setup = () => ({ hooks: {} })
    expect(() => definePlugin({ name: 'x', instances: [], hooks: [], setup })).toThrow('definePlugin("x"): instances must list where it runs: inbound, outbound')
    // @ts-expect-error -- not a hook
    expect(() => definePlugin({ name: 'x', instances: ['inbound'], hooks: ['rcpt_to'], setup })).toThrow('definePlugin("x"): unknown hook "rcpt_to"')
  })

  it('refuses hooks setup() returns but the declaration does not list, and queue hooks without onFailure', () => {
    // @ts-expect-error -- mail is not declared
    const undeclared = definePlugin({ name: 'x', instances: ['inbound'], hooks: ['rcpt'], setup: () => ({ hooks: { mail: () => undefined } }) })
    expect(() => pluginHarness(undeclared)).toThrow('setup() returned a mail hook, which is not in hooks: [rcpt]')
    // @ts-expect-error -- a queue hook says what a failure means
    const noFallback = definePlugin({ name: 'x', instances: ['inbound'], hooks: ['bounce'], setup: () => ({ hooks: { bounce: { run: () => CONT } } }) })
    expect(() => pluginHarness(noFallback)).toThrow('hook bounce: expected { run, onFailure }')
  })

  describe('at startup (what register() does before any hook)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'define-test-'))
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
    const configDir = path.join(dir, 'inbound', 'config')
    fs.mkdirSync(configDir, { recursive: true })
    const start = (plugins: string[], instance: 'inbound' | 'outbound', ini = '') => {
      fs.writeFileSync(path.join(configDir, 'plugins'), `# test\n${plugins.join('\n')}\n`)
      fs.writeFileSync(path.join(configDir, 'test-sample.ini'), ini)
      return startPlugin(definitionOf(sample), { name: 'test-sample' } as Haraka.Plugin, { instance, configDir })
    }
    const refusal = (fn: () => unknown) => {
      try {
        fn()
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
        return (err as Error).message.replace(dir + path.sep, '')
      }
      throw new Error('not refused')
    }

    it('runs setup in a declared instance, with its listed order and valid settings', () => {
      expect(Object.keys(start(['test-first', 'test-sample'], 'inbound').hooks)).toEqual(['rcpt'])
    })

    it('refuses the wrong instance with the plugins file line', () => {
      expect(refusal(() => start(['test-first', 'test-sample'], 'outbound'))).toBe(
        'inbound/config/plugins:3: test-sample: runs in the inbound instance only: remove it from the outbound instance',
      )
    })

    it('refuses its own order rule, naming line and rule', () => {
      expect(refusal(() => start(['test-sample', 'test-first'], 'inbound'))).toBe(
        'inbound/config/plugins:2: test-sample: must come after test-first (line 3): it reads what test-first records',
      )
    })

    it('refuses bad settings with file, line and key', () => {
      expect(refusal(() => start(['test-sample'], 'inbound', '[main]\nlimt=2\n'))).toBe('inbound/config/test-sample.ini:2: [main] limt: unknown key (known: limit)')
    })
  })
})
