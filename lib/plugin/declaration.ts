// What a gateway plugin declares about itself, readable without running it:
// where it may run, which hooks it uses, its settings and its place in the
// order. definePlugin attaches it to the plugin's exports (not enumerable, so
// Haraka does not copy it onto its plugin object); `gateway check-config` and
// startup read it from there to check an instance before anything runs.

import type { ConfigSpec } from '../config/plugin-config'
import type { InstanceName } from '../config/paths'
import { HOOKS, isHookName, type HookName } from './hooks'
import type { OrderRules } from './order'

export const INSTANCES: readonly InstanceName[] = ['inbound', 'outbound']

export interface PluginDeclaration {
  /** The name operators put in config/plugins (and the log prefix). */
  readonly name: string
  /** The instances it may load in; the adapter refuses any other. */
  readonly instances: readonly InstanceName[]
  /** Every hook it may register (setup() returns handlers for some or all of them). */
  readonly hooks: readonly HookName[]
  /** Its settings file (<instance>/config/<name>.ini): a schema or a loader. */
  readonly config?: ConfigSpec | undefined
  readonly order?: OrderRules | undefined
  /** Longest a hook may take before it counts as failed (default 20 s; 10 s for send_email, deferred, bounce, delivered). */
  readonly hookTimeoutMs?: number | undefined
}

// A registry symbol: the CLI and each Haraka instance may load this module from
// different copies (dist/ vs. sources in tests), and must still find it.
const DECLARATION = Symbol.for('edge-gateway.plugin-declaration')

export function attachDeclaration<T extends object>(exports: T, declaration: PluginDeclaration): T {
  Object.defineProperty(exports, DECLARATION, { value: declaration, enumerable: false })
  return exports
}

/** The declaration of a loaded plugin module, or undefined for plugins not built on definePlugin. */
export function declarationOf(mod: unknown): PluginDeclaration | undefined {
  if ((typeof mod !== 'object' && typeof mod !== 'function') || mod === null) return undefined
  return (mod as { [DECLARATION]?: PluginDeclaration })[DECLARATION]
}

/** Why `decl` must not load in `instance`, or undefined. One wording for the adapter and check-config. */
export function instanceProblem(decl: PluginDeclaration, instance: InstanceName): string | undefined {
  if (decl.instances.includes(instance)) return undefined
  return `runs in the ${decl.instances.join(' and ')} instance only: remove it from the ${instance} instance`
}

/** Throws on a declaration that cannot be right (a programming error, found when the module loads). */
export function checkDeclaration(decl: PluginDeclaration): void {
  const fail = (why: string) => {
    throw new TypeError(`definePlugin(${JSON.stringify(decl.name)}): ${why}`)
  }
  if (typeof decl.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(decl.name)) fail('name must be the plugin name as listed in config/plugins')
  if (!Array.isArray(decl.instances) || decl.instances.length === 0 || decl.instances.some((i) => !INSTANCES.includes(i))) {
    fail(`instances must list where it runs: ${INSTANCES.join(', ')}`)
  }
  if (!Array.isArray(decl.hooks)) fail('hooks must list the hooks it uses ([] for none)')
  const known = (hook: string) => isHookName(hook) || fail(`unknown hook "${hook}" (known: ${Object.keys(HOOKS).join(', ')})`)
  decl.hooks.forEach(known)
  for (const rules of [decl.order, decl.order?.inbound, decl.order?.outbound]) {
    rules?.endsChain?.forEach(known)
    Object.keys(rules?.first ?? {}).forEach(known)
  }
}
