// Haraka's table of registered hooks (plugins.js `registered_hooks`, filled by
// register_hook line 105 and sorted by priority in load_plugins line 303) and of
// plugin objects (`registered_plugins`), for lib/plugin/hook-chains.ts, which
// replaces each run of consecutive gateway plugins on one hook by one entry.
//
// Why no config or hook can do it (haraka 3.3.4): run_next_hook (line 426) runs
// each registered entry with its own closures, plugin timer and debug lines
// (~7 us per entry and hook call, measured with BENCH_BARE_NOOP); the gateway's
// pipeline registers some 45 entries a message passes through. Nothing in Haraka
// groups them.
// Caveat: the table is read once, after every plugin has registered and the
// table is sorted (the turn after load_plugins returns); it is never re-sorted.

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

const USED_BY = 'hook chains (one Haraka dispatch per run of gateway plugins)'

export const REGISTERED_HOOKS: HarakaInternal = { module: './plugins', member: ['registered_hooks'], kind: 'object', usedBy: USED_BY }
export const REGISTERED_PLUGINS: HarakaInternal = { module: './plugins', member: ['registered_plugins'], kind: 'object', usedBy: USED_BY }
export const RUN_NEXT_HOOK: HarakaInternal = { module: './plugins', member: ['run_next_hook'], kind: 'function', usedBy: USED_BY }

export const HOOK_REGISTRY_INTERNALS: readonly HarakaInternal[] = [REGISTERED_HOOKS, REGISTERED_PLUGINS, RUN_NEXT_HOOK]

/** One entry of registered_hooks[hook], as register_hook writes it. */
export interface HookEntry {
  plugin: string
  method: string
  priority: number
  timeout: number
  order: number
}

export interface HookRegistry {
  /** Per hook, in the order Haraka runs them. Changed in place. */
  registered_hooks: Record<string, HookEntry[]>
  registered_plugins: Record<string, Record<string, unknown> & { name: string }>
}

/** Haraka's live tables (the same objects run_hooks reads). */
export function harakaHookRegistry(source: HarakaSource): HookRegistry {
  for (const i of HOOK_REGISTRY_INTERNALS) requireInternal(source, i)
  return loaderOf(source)(REGISTERED_HOOKS.module) as HookRegistry
}
