// Runs of gateway plugins on one hook become one Haraka entry that behaves as
// Haraka's run_next_hook would with the separate entries (lib/plugin/hook-chains.ts).
// Against a fake registry shaped like plugins.js's; the integration suite runs the
// real thing on every message.

import { connection, cont, deny, denysoft } from 'haraka-constants'
import { describe, expect, it } from 'vitest'

import type { HookEntry, HookRegistry } from '../haraka/hook-registry'
import { chainGatewayHooks } from './hook-chains'

type Answer = [code?: number, msg?: string]
type Next = (code?: number, msg?: unknown) => void
type Subject = { constructor: { name: string }; state: number; transaction: { notes: { skip_plugins: string[] } } | null; current_hook: unknown[] | null }

/** A registry with gateway plugins (answering as told, recording their calls) and foreign ones, in list order. */
function registry(hooks: Record<string, [name: string, opts?: { foreign?: boolean; priority?: number; answer?: Answer; later?: boolean }][]>) {
  const calls: string[] = []
  const reg: HookRegistry = { registered_hooks: {}, registered_plugins: {} }
  let order = 0
  for (const [hook, list] of Object.entries(hooks)) {
    reg.registered_hooks[hook] = list.map(([name, o = {}]): HookEntry => {
      const p = (reg.registered_plugins[name] ??= { name })
      const method = o.foreign ? `hook_${hook}` : `gateway_${hook}`
      p[method] = (next: Next, subject: Subject) => {
        calls.push(`${name}:${hook}`)
        if (name === 'leaver') subject.state = connection.state.DISCONNECTING
        const answer = () => next(...(o.answer ?? []))
        if (o.later) setTimeout(answer, 1)
        else answer()
      }
      return { plugin: name, method, priority: o.priority ?? 0, timeout: 0, order: order++ }
    })
  }
  return { reg, calls }
}

/** Runs `hook` as Haraka does: each entry in turn while they answer CONT (every entry on connect_init/disconnect). */
function run(reg: HookRegistry, hook: string, subject = connectionLike()): Promise<{ answer: Answer; by: string | undefined }> {
  return new Promise((resolve) => {
    const entries = [...reg.registered_hooks[hook]!]
    const nextEntry = (): void => {
      const e = entries.shift()!
      const p = reg.registered_plugins[e.plugin]!
      const every = hook === 'connect_init' || hook === 'disconnect'
      if (subject.transaction?.notes.skip_plugins.includes(p.name)) {
        // plugins.js run_next_hook: a skipped entry answers CONT
        if (entries.length > 0) return nextEntry()
        return resolve({ answer: [undefined, undefined], by: p.name })
      }
      const item: unknown[] = [p, e.method, () => {}]
      subject.current_hook = item
      ;(p[e.method] as (n: Next, s: Subject) => void)((code, msg) => {
        if (entries.length > 0 && (code === undefined || code === cont || every)) return nextEntry()
        resolve({ answer: [code, msg as string | undefined], by: (item[0] as { name: string }).name })
      }, subject)
    }
    nextEntry()
  })
}

function connectionLike(): Subject {
  // plugins.js tells a connection by its constructor's name
  const Connection = function () {} as unknown as { new (): object }
  const s = Object.create(Connection.prototype) as Subject
  Object.assign(s, { state: connection.state.CMD, transaction: { notes: { skip_plugins: [] } }, current_hook: null })
  Object.defineProperty(s, 'constructor', { value: { name: 'Connection' } })
  return s
}

describe('chainGatewayHooks', () => {
  it('makes one entry of each run of two or more gateway plugins; a foreign plugin or another priority splits a run', () => {
    const { reg } = registry({
      rcpt: [['a'], ['b'], ['c'], ['spf', { foreign: true }], ['d'], ['e'], ['f', { priority: 5 }]],
      mail: [['a']],
      log: [['a'], ['b']],
    })
    const chains = chainGatewayHooks(reg)
    expect(chains).toEqual([
      { hook: 'rcpt', plugins: ['a', 'b', 'c'] },
      { hook: 'rcpt', plugins: ['d', 'e'] },
    ])
    expect(reg.registered_hooks.rcpt!.map((e) => `${e.plugin}.${e.method}`)).toEqual([
      'gateway-hook-chain.gateway_chain_rcpt_1',
      'spf.hook_rcpt',
      'gateway-hook-chain.gateway_chain_rcpt_2',
      'f.gateway_rcpt',
    ])
    expect(reg.registered_hooks.mail!.map((e) => e.method)).toEqual(['gateway_mail'])
    expect(reg.registered_hooks.log!.map((e) => e.method)).toEqual(['gateway_log', 'gateway_log'])
  })

  it('runs the members in order; the first refusal ends the hook and is attributed to its member', async () => {
    const { reg, calls } = registry({ rcpt: [['a'], ['b', { answer: [deny, 'no'] }], ['c']] })
    chainGatewayHooks(reg)
    expect(await run(reg, 'rcpt')).toEqual({ answer: [deny, 'no'], by: 'b' })
    expect(calls).toEqual(['a:rcpt', 'b:rcpt'])
  })

  it('waits for a member that answers later, then goes on', async () => {
    const { reg, calls } = registry({ mail: [['a', { later: true }], ['b', { later: true, answer: [denysoft, 'wait'] }], ['c']] })
    chainGatewayHooks(reg)
    expect(await run(reg, 'mail')).toEqual({ answer: [denysoft, 'wait'], by: 'b' })
    expect(calls).toEqual(['a:mail', 'b:mail'])
  })

  it('connect_init and disconnect run every member whatever they answer; the last answer counts', async () => {
    for (const hook of ['connect_init', 'disconnect']) {
      const { reg, calls } = registry({ [hook]: [['a', { answer: [deny, 'x'] }], ['b'], ['c', { answer: [cont] }]] })
      chainGatewayHooks(reg)
      expect(await run(reg, hook)).toEqual({ answer: [cont, undefined], by: 'c' })
      expect(calls).toEqual([`a:${hook}`, `b:${hook}`, `c:${hook}`])
    }
  })

  it('skips a member named in transaction.notes.skip_plugins, and only that member (the first one too)', async () => {
    const { reg, calls } = registry({ data_post: [['a'], ['b', { answer: [deny, 'b'] }], ['c', { answer: [deny, 'c'] }]] })
    chainGatewayHooks(reg)
    const s = connectionLike()
    s.transaction!.notes.skip_plugins.push('b')
    expect(await run(reg, 'data_post', s)).toEqual({ answer: [deny, 'c'], by: 'c' })
    expect(calls).toEqual(['a:data_post', 'c:data_post'])

    const first = registry({ rcpt: [['a'], ['b', { answer: [deny, 'no'] }]] })
    chainGatewayHooks(first.reg)
    const t = connectionLike()
    t.transaction!.notes.skip_plugins.push('a')
    expect(await run(first.reg, 'rcpt', t)).toEqual({ answer: [deny, 'no'], by: 'b' })
    expect(first.calls).toEqual(['b:rcpt'])
  })

  it('leaves the table alone when a plugin of its own name is not its own', () => {
    const { reg } = registry({ rcpt: [['a'], ['b']] })
    reg.registered_plugins['gateway-hook-chain'] = { name: 'gateway-hook-chain' }
    expect(chainGatewayHooks(reg)).toEqual([])
    expect(reg.registered_hooks.rcpt!.map((e) => e.method)).toEqual(['gateway_rcpt', 'gateway_rcpt'])
  })

  it('runs no further member once the client has gone, except on disconnect', async () => {
    const { reg, calls } = registry({ rcpt: [['leaver'], ['b']], disconnect: [['leaver'], ['b']] })
    chainGatewayHooks(reg)
    await run(reg, 'rcpt')
    expect(calls).toEqual(['leaver:rcpt'])
    await run(reg, 'disconnect')
    expect(calls).toEqual(['leaver:rcpt', 'leaver:disconnect', 'b:disconnect'])
  })

  it('with a foreign deny hook (it may overrule a refusal), chains observer hooks only', () => {
    const { reg } = registry({
      deny: [['a'], ['b'], ['whitelist', { foreign: true }]],
      rcpt: [['a'], ['b']],
      queue_ok: [['a'], ['b']],
    })
    expect(chainGatewayHooks(reg).map((c) => c.hook)).toEqual(['deny', 'queue_ok'])
    expect(reg.registered_hooks.rcpt!.map((e) => e.method)).toEqual(['gateway_rcpt', 'gateway_rcpt'])
  })
})
