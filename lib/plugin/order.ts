// Plugin order, declared by the plugins and checked against an instance's
// config/plugins (at startup and by `gateway check-config`). Within a hook,
// Haraka runs plugins in the listed order, and an answer other than "continue"
// ends the hook for the plugins after it: a wrong order does not fail, it
// silently skips a check. So a plugin says what its correctness depends on:
// - after / before: plugins it must follow or precede when both are listed
//   (by name, so stock plugins like spf and dkim can be named);
// - endsChain: hooks whose chain it ends (gateway-accepted-domains accepts at
//   rcpt): every plugin using that hook must come before it;
// - first: hooks at which it must run before every other plugin using them.
// Rules that hold in one instance only go under `inbound` / `outbound`
// (haraka-plugin-dkim signs on outbound, where its place matters, and only
// verifies on inbound). Which hooks a plugin uses is known for plugins built on
// definePlugin (they declare them); for other plugins only by-name rules apply.

import { ConfigError } from '../config/errors'
import type { InstanceName } from '../config/paths'
import type { HookName } from './hooks'

/** Why each rule exists, said in the error message: "must come after spf (line 9): <why>". */
type Reasons<K extends string> = Readonly<Partial<Record<K, string>>>

export interface OrderRules extends InstanceRules {
  /** More rules for the inbound instance only. */
  readonly inbound?: InstanceRules
  /** More rules for the outbound instance only. */
  readonly outbound?: InstanceRules
}

export interface InstanceRules {
  /** Plugins (by name) this one must come after when both are listed, each with the reason. */
  readonly after?: Reasons<string>
  /** Plugins (by name) this one must come before when both are listed, each with the reason. */
  readonly before?: Reasons<string>
  /** Hooks whose chain this plugin ends: every plugin that uses the hook must come before it. */
  readonly endsChain?: readonly HookName[]
  /** Hooks at which this plugin must run first (before every plugin that uses them), each with the reason. */
  readonly first?: Reasons<HookName>
}

/** One line of a plugins file, with what the plugin declares (nothing for plugins not built on definePlugin). */
export interface ListedPlugin {
  /** As Haraka names it: without a "haraka-plugin-" prefix. */
  readonly name: string
  readonly line: number
  /** The hooks it uses; undefined when unknown (not a gateway plugin). */
  readonly hooks?: readonly HookName[] | undefined
  readonly order?: OrderRules | undefined
}

export interface OrderProblem {
  /** The plugin whose rule is broken, and its line. */
  readonly name: string
  readonly line: number
  readonly problem: string
}

/** The rules that apply in `instance`: the general ones plus the instance's own. */
function rulesIn(order: OrderRules, instance: InstanceName): Required<InstanceRules> {
  const extra: InstanceRules = order[instance] ?? {}
  return {
    after: { ...order.after, ...extra.after },
    before: { ...order.before, ...extra.before },
    endsChain: [...(order.endsChain ?? []), ...(extra.endsChain ?? [])],
    first: { ...order.first, ...extra.first },
  }
}

/** Every broken rule in `instance`'s list, in the order of the plugins declaring them. */
export function orderProblems(list: readonly ListedPlugin[], instance: InstanceName): OrderProblem[] {
  const byName = new Map<string, ListedPlugin>()
  for (const p of list) if (!byName.has(p.name)) byName.set(p.name, p)
  const problems: OrderProblem[] = []
  for (const p of list) {
    if (byName.get(p.name) !== p || !p.order) continue
    const { after, before, endsChain, first } = rulesIn(p.order, instance)
    const at = (problem: string) => problems.push({ name: p.name, line: p.line, problem })
    for (const [name, why] of Object.entries(after)) {
      const q = byName.get(name)
      if (q && q !== p && q.line > p.line) at(`must come after ${name} (line ${q.line}): ${why}`)
    }
    for (const [name, why] of Object.entries(before)) {
      const q = byName.get(name)
      if (q && q !== p && q.line < p.line) at(`must come before ${name} (line ${q.line}): ${why}`)
    }
    for (const hook of endsChain) {
      for (const q of list) {
        if (q.line > p.line && q.name !== p.name && q.hooks?.includes(hook)) {
          at(`must come after ${q.name} (line ${q.line}): it ends the ${hook} hook, so the ${hook} hook of ${q.name} would never run`)
        }
      }
    }
    for (const [hook, why] of Object.entries(first) as [HookName, string][]) {
      const earlier = list.find((q) => q.line < p.line && q.name !== p.name && q.hooks?.includes(hook))
      if (earlier) at(`must be the first ${hook} plugin, before ${earlier.name} (line ${earlier.line}): ${why}`)
    }
  }
  return problems
}

/** Throws a ConfigError naming `where` (the plugins file), the line, the plugin and the broken rule. */
export function checkOrder(list: readonly ListedPlugin[], instance: InstanceName, where: string): void {
  const first = orderProblems(list, instance)[0]
  if (first) throw new ConfigError(`${where}:${first.line}`, first.name, first.problem)
}
