// One Haraka dispatch for each run of consecutive gateway plugins on a hook.
//
// Haraka runs every registered (plugin, hook) entry through run_next_hook: its
// closures, a debug line and a log-level check per entry and call (~7 us each,
// BENCH_BARE_NOOP). The inbound pipeline's ~45 gateway entries per message are
// mostly in runs (rcpt: four plugins in a row; connect_init: eight). Each run
// becomes one entry whose method calls the members' own methods (the adapter of
// define.ts, unchanged) one after the other, as Haraka would have:
// - in order; the first verdict that is not CONT ends the hook and is Haraka's to
//   act on (deny hooks, the reply), attributed to the member that gave it (the
//   entry Haraka is running, connection.current_hook, names that member);
// - connect_init and disconnect run every member whatever they answer; Haraka acts
//   on the last member's answer only;
// - a member named in transaction.notes.skip_plugins is skipped;
// - after the client has gone, no further member runs (except on required hooks).
// The entry belongs to a plugin of its own (CHAIN_PLUGIN), so that Haraka's skip_plugins
// check, which looks at the entry's plugin, never skips a whole run for one member.
// Not chained: entries of other plugins (a third-party or your own plugin between
// two gateway plugins splits the run), different priorities, the log and init_*
// hooks, and - when any plugin outside the gateway has a deny hook - every hook
// whose verdict can be a refusal: such a plugin may answer OK to a refusal, and
// Haraka would then run the rest of the original list, which a chain has taken in.

import { cont as CONT, connection } from 'haraka-constants'

import type { HookEntry, HookRegistry } from '../haraka/hook-registry'
import { gatewayMethod } from './hooks'

/** plugins.js client_disconnected: from this state on the client is gone. */
const DISCONNECTING = connection.state.DISCONNECTING
/** plugins.js is_required_hook: these run even after the client has gone. */
const REQUIRED_HOOKS: ReadonlySet<string> = new Set(['reset_transaction', 'disconnect', 'log'])
/** plugins.js run_next_hook: every plugin runs, whatever the one before answered. */
const EVERY_MEMBER_HOOKS: ReadonlySet<string> = new Set(['connect_init', 'disconnect'])
/** Hooks whose answers never refuse anything (observers): safe to chain whatever deny hooks exist. */
const OBSERVER_HOOKS: ReadonlySet<string> = new Set(['connect_init', 'disconnect', 'rcpt_ok', 'queue_ok', 'delivered', 'pre_send_trans_email', 'deny'])

type Method = (next: Haraka.Next, subject: unknown, params: unknown) => void
type Member = Record<string, unknown> & { name: string }

/**
 * The plugin the chain entries are registered under. Not a member: Haraka skips an
 * entry whose plugin is named in transaction.notes.skip_plugins, and skipping one
 * member must not skip the others (each member is checked by the chain itself).
 */
export const CHAIN_PLUGIN = 'gateway-hook-chain'
const OURS = Symbol.for('edge-gateway.hook-chain')

export interface Chain {
  readonly hook: string
  readonly plugins: readonly string[]
}

/** Replaces each run of two or more consecutive gateway entries by one; returns the chains made. */
export function chainGatewayHooks(registry: HookRegistry): Chain[] {
  const chains: Chain[] = []
  const existing = registry.registered_plugins[CHAIN_PLUGIN]
  if (existing && !(existing as Record<symbol, unknown>)[OURS]) return chains // a plugin of that name is not ours: leave Haraka's table alone
  const host = (registry.registered_plugins[CHAIN_PLUGIN] ??= { name: CHAIN_PLUGIN, timeout: 0, [OURS]: true })
  const foreignDeny = (registry.registered_hooks.deny ?? []).some((e) => !isGatewayEntry(registry, 'deny', e))
  for (const [hook, entries] of Object.entries(registry.registered_hooks)) {
    if (hook === 'log' || hook.startsWith('init_')) continue
    if (foreignDeny && !OBSERVER_HOOKS.has(hook)) continue
    const out: HookEntry[] = []
    for (let i = 0; i < entries.length; ) {
      let j = i
      while (j < entries.length && isGatewayEntry(registry, hook, entries[j]!) && entries[j]!.priority === entries[i]!.priority) j++
      if (j - i < 2) {
        out.push(entries[i]!)
        i++
        continue
      }
      const members = entries.slice(i, j).map((e) => registry.registered_plugins[e.plugin]!)
      const method = `gateway_chain_${hook}_${chains.filter((c) => c.hook === hook).length + 1}`
      host[method] = chainMethod(hook, members)
      out.push({ ...entries[i]!, plugin: CHAIN_PLUGIN, method })
      chains.push({ hook, plugins: members.map((m) => m.name) })
      i = j
    }
    entries.splice(0, entries.length, ...out)
  }
  return chains
}

function isGatewayEntry(registry: HookRegistry, hook: string, e: HookEntry): boolean {
  return e.method === gatewayMethod(hook) && typeof registry.registered_plugins[e.plugin]?.[e.method] === 'function'
}

interface Subject {
  state?: number
  constructor: { name: string }
  transaction?: { notes?: { skip_plugins?: unknown } } | null
  /** plugins.js run_next_hook: the entry being run, [plugin, method, cancel]. */
  current_hook?: unknown[] | null
}

/** The entry's method: runs the members as Haraka would run their own entries. */
export function chainMethod(hook: string, members: readonly Member[]): Method {
  const everyMember = EVERY_MEMBER_HOOKS.has(hook)
  const required = REQUIRED_HOOKS.has(hook)
  const method = gatewayMethod(hook)
  return (next, subject, params) => {
    const s = subject as Subject
    let i = 0
    let last: Member | undefined
    // Haraka's log line and deny hooks name the entry it is running (current_hook): the member that answered
    const answeredBy = (m: Member) => {
      const item = s.current_hook
      if (Array.isArray(item)) {
        item[0] = m
        item[1] = method
      }
    }
    const step = (code?: number, msg?: unknown): void => {
      if (code !== undefined && code !== CONT && !everyMember) {
        if (last) answeredBy(last)
        return next(code, msg as never)
      }
      while (i < members.length) {
        const m = members[i++]!
        if (!required && s.constructor.name === 'Connection' && (s.state ?? 0) >= DISCONNECTING) return next()
        const skip = s.transaction?.notes?.skip_plugins
        if (Array.isArray(skip) && skip.includes(m.name)) {
          code = undefined // plugins.js: a skipped plugin answers CONT
          msg = undefined
          continue
        }
        last = m
        return (m[method] as Method).call(m, step as Haraka.Next, subject, params)
      }
      // the last member's answer (on connect_init and disconnect, whatever it is)
      if (last) answeredBy(last)
      next(code, msg as never)
    }
    step()
  }
}
