// The one contract between gateway plugins and Haraka. A plugin declares what it
// is (name, the instances it runs in, the hooks it uses, its settings, its place
// in the order) and returns typed async hooks from setup(); this adapter does the
// rest for every hook, SMTP, delivery queue and observers alike:
// - before setup: refuses the wrong instance, a broken order and bad settings,
//   each with one line naming the file and line (exit 78);
// - on every call: settles Haraka's `next` exactly once (run-hook.ts), with the
//   hook's verdict, or, if it throws, rejects, overruns its time or returns
//   nonsense, with the hook's failure answer (451 4.3.0 for SMTP hooks) and a log
//   line naming the plugin and the hook.
// Haraka's own contract is easy to break: a synchronous throw is logged and
// treated as "continue" (the check silently fails open), a rejected promise is
// an unhandled rejection that exits the process, and a hook that never calls
// `next` stalls the client for 30 s.

import path from 'node:path'

import { ConfigError, UnavailableError } from '../config/errors'
import { gatewayConfig, type GatewayConfig } from '../config/gateway'
import { displayPath, instanceConfigDir, instanceFromEnv, type InstanceName } from '../config/paths'
import { loadPluginConfig, pluginConfigFile, type ConfigOf, type ConfigSpec } from '../config/plugin-config'
import { HarakaIncompatibleError } from '../haraka/internal'
import { REPLIES } from '../smtp/reply'
import { listPlugins } from './catalog'
import { attachDeclaration, checkDeclaration, instanceProblem, type PluginDeclaration } from './declaration'
import { gatewayMethod, HOOKS, nextWithQueueVerdict, nextWithVerdict, type HookName, type Hooks } from './hooks'
import { checkOrder, type OrderRules } from './order'
import { describeError, runHook, type HookSpec } from './run-hook'
import type { QueueVerdict, Verdict } from './verdict'

export type { HookName, Hooks } from './hooks'

type Awaitable<T> = T | Promise<T>

export interface SetupContext<C> {
  /** Haraka's plugin object (logging, Haraka's config reader, haraka_require). */
  readonly plugin: Haraka.Plugin
  /** Which gateway instance loads the plugin. */
  readonly instance: InstanceName
  /** The plugin's settings, validated against its `config` declaration. */
  readonly config: C
  /** The shared gateway settings (config/gateway.ini, accepted domains), read on first use. */
  readonly gateway: GatewayConfig
}

export interface PluginInstance<H extends HookName> {
  /** Only the hooks returned here are registered: a disabled feature costs nothing. */
  readonly hooks: Partial<Pick<Hooks, H>>
  /** Flush and close what the plugin opened; Haraka calls it on graceful shutdown. */
  readonly shutdown?: () => Awaitable<void>
}

export interface PluginDefinition<H extends HookName, S extends ConfigSpec | undefined> extends PluginDeclaration {
  readonly hooks: readonly H[]
  readonly config?: S
  readonly order?: OrderRules
  /** Reads what it needs beyond `config`, then returns handlers for (some of) the declared hooks. Throw ConfigError on bad config. */
  setup(ctx: SetupContext<ConfigOf<S>>): PluginInstance<H>
}

/** Haraka's exports for a plugin: `register` and `shutdown` (only enumerable exports are copied). */
export interface HarakaExports {
  register(this: Haraka.Plugin): void
  shutdown(this: Haraka.Plugin): void
}

/** What definePlugin returns: Haraka's exports, carrying the definition for check-config and unit tests. */
export interface GatewayPlugin<H extends HookName = HookName, S extends ConfigSpec | undefined = ConfigSpec | undefined> extends HarakaExports {
  /** Type-level only: lets the unit-test harness type a plugin's config. */
  readonly __definition?: PluginDefinition<H, S>
}

const DEFAULT_HOOK_TIMEOUT_MS = 20_000
/** Delivery-queue hooks: a stalled one holds a delivery slot. */
const QUEUE_HOOK_TIMEOUT_MS = 10_000

const definitions = new WeakMap<object, PluginDefinition<HookName, ConfigSpec | undefined>>()

export function definePlugin<const H extends HookName, S extends ConfigSpec | undefined = undefined>(def: PluginDefinition<H, S>): GatewayPlugin<H, S> {
  checkDeclaration(def)
  let instance: PluginInstance<H> | undefined

  const exports: HarakaExports = {
    register(this: Haraka.Plugin) {
      try {
        instance = startPlugin(def, this, { instance: instanceFromEnv(), configDir: instanceConfigDir() })
      } catch (err) {
        failStartup(def.name, err)
      }
      installHooks(this, def, instance)
    },
    shutdown(this: Haraka.Plugin) {
      const done = instance?.shutdown
      if (!done) return
      Promise.resolve()
        .then(done)
        .catch((err: unknown) => this.logerror(`shutdown failed: ${describeError(err)}`))
    },
  }
  definitions.set(exports, def as unknown as PluginDefinition<HookName, ConfigSpec | undefined>)
  const { setup: _setup, ...declaration } = def
  return attachDeclaration(exports, Object.freeze(declaration))
}

/** The full definition behind definePlugin's exports (for the unit-test harness). */
export function definitionOf<H extends HookName, S extends ConfigSpec | undefined>(plugin: GatewayPlugin<H, S>): PluginDefinition<H, S> {
  const def = definitions.get(plugin)
  if (!def) throw new TypeError('not a plugin made by definePlugin')
  return def as unknown as PluginDefinition<H, S>
}

export interface StartOptions {
  readonly instance: InstanceName
  /** The instance's config folder: its plugins list and the plugin's .ini. */
  readonly configDir: string
}

/** What register() does before the first hook can run: the instance, the order, the settings, then setup(). Throws ConfigError. */
export function startPlugin<H extends HookName, S extends ConfigSpec | undefined>(def: PluginDefinition<H, S>, plugin: Haraka.Plugin, opts: StartOptions): PluginInstance<H> {
  const list = listPlugins(path.dirname(opts.configDir))
  const where = displayPath(list.file)
  const me = list.entries.find((e) => e.name === def.name)
  const wrongInstance = instanceProblem(def, opts.instance)
  if (wrongInstance) throw new ConfigError(me ? `${where}:${me.line}` : where, def.name, wrongInstance)
  // This plugin's own rules (gateway-core checks everybody's): they hold even where gateway-core is not loaded.
  checkOrder(
    list.entries.map((e) => (e.name === def.name ? { ...e, hooks: def.hooks, order: def.order } : { ...e, order: undefined })),
    opts.instance,
    where,
  )
  const config = loadPluginConfig(def.config, pluginConfigFile(def.name, opts.configDir)) as ConfigOf<S>
  return instantiate(def, { plugin, instance: opts.instance, config, gateway: undefined })
}

/**
 * Runs setup() and checks what it returned against the declaration. `gateway`
 * undefined: the process's shared configuration, read when first used.
 */
export function instantiate<H extends HookName, S extends ConfigSpec | undefined>(
  def: PluginDefinition<H, S>,
  ctx: { plugin: Haraka.Plugin; instance: InstanceName; config: ConfigOf<S>; gateway: GatewayConfig | undefined },
): PluginInstance<H> {
  const given = ctx.gateway
  const result = def.setup({
    plugin: ctx.plugin,
    instance: ctx.instance,
    config: ctx.config,
    get gateway() {
      return given ?? gatewayConfig()
    },
  })
  for (const [hook, handler] of Object.entries(result.hooks)) {
    if (!(def.hooks as readonly string[]).includes(hook)) {
      throw new TypeError(`setup() returned a ${hook} hook, which is not in hooks: [${def.hooks.join(', ')}]`)
    }
    const queueHook = HOOKS[hook as HookName].outcome === 'queue'
    const ok = queueHook ? isQueueHook(handler) : typeof handler === 'function'
    if (!ok) throw new TypeError(`hook ${hook}: expected ${queueHook ? '{ run, onFailure }' : 'a function'}`)
  }
  return result
}

/**
 * Registers each hook setup() returned with Haraka, as `gateway_<hook>`. Each hook
 * settles `next` itself within its deadline (run-hook.ts), which is never later
 * than the one Haraka would apply (`<plugin>.timeout`, `plugin_timeout`; 30 s).
 * So Haraka's own timer is switched off for gateway plugins: it armed and cleared
 * a setTimeout for every one of the ~45 hook calls per inbound message (issue 12)
 * only to duplicate ours, which answers 451 4.3.0 with a line naming the plugin.
 */
export function installHooks<H extends HookName>(plugin: Haraka.Plugin, def: PluginDeclaration, instance: PluginInstance<H>): void {
  const harakaMs = plugin.timeout > 0 ? plugin.timeout * 1000 : Infinity
  for (const [hook, handler] of Object.entries(instance.hooks) as [HookName, unknown][]) {
    const method = gatewayMethod(hook)
    plugin[method] = hookMethod(plugin, hook, handler, Math.min(def.hookTimeoutMs ?? defaultTimeout(hook), harakaMs))
    plugin.register_hook(hook, method)
  }
  plugin.timeout = 0 // plugins.js run_next_hook: no timer when 0
}

function defaultTimeout(hook: HookName): number {
  return HOOKS[hook].outcome === 'queue' || hook === 'delivered' ? QUEUE_HOOK_TIMEOUT_MS : DEFAULT_HOOK_TIMEOUT_MS
}

/** What Haraka calls: (next, connection | hmail | queueing context, params). */
export type HookMethod = (next: Haraka.Next, subject: unknown, params?: unknown) => void

type Handler = (...args: unknown[]) => unknown
type QueueHandler = { run: Handler; onFailure: QueueVerdict }
type Logger = { logerror(...args: unknown[]): void; results?: Haraka.ResultStore }

const LOCAL_ERROR: Verdict = { kind: 'tempfail', reply: REPLIES.localError, disconnect: false }

/** One hook of one plugin as Haraka calls it. */
export function hookMethod(plugin: { readonly name: string }, hook: HookName, handler: unknown, timeoutMs: number): HookMethod {
  const { target, outcome } = HOOKS[hook]
  const queue = outcome === 'queue' ? (handler as QueueHandler) : undefined
  const fn = queue ? queue.run.bind(queue) : (handler as Handler)

  // built once: a call allocates nothing of its own unless the handler is async (run-hook.ts)
  const spec: HookSpec<Logger> = {
    plugin,
    hook,
    timeoutMs,
    call(subject, params) {
      if (target !== 'transaction' && target !== 'queueing') return fn(subject, params)
      const txn = (subject as { transaction?: Haraka.Transaction | null }).transaction
      if (!txn) throw new Error('called without a transaction')
      return target === 'queueing' ? fn(subject, txn) : fn(subject, txn, params)
    },
    invalid: (value) => invalidResult(outcome, value),
    done(next, value) {
      if (outcome === 'verdict') nextWithVerdict(next, value as Verdict | undefined)
      else if (queue) nextWithQueueVerdict(next, hook, value as QueueVerdict)
      else next() // observers never change the outcome
    },
    failed(next, subject, why) {
      recordError(subject, plugin, hook, why)
      if (outcome === 'verdict') nextWithVerdict(next, LOCAL_ERROR)
      else if (queue) nextWithQueueVerdict(next, hook, queue.onFailure)
      else next()
    },
  }
  return (next, subject, params) => runHook(spec, next, subject as Logger, params)
}

const VERDICT_KINDS: ReadonlySet<unknown> = new Set(['acceptAndStop', 'reject', 'tempfail'])
const QUEUE_KINDS: ReadonlySet<unknown> = new Set(['cont', 'delay', 'drop'])

/** Why a handler's result cannot be handed to Haraka (it would never call `next`), or undefined. */
function invalidResult(outcome: 'verdict' | 'observe' | 'queue', value: unknown): string | undefined {
  if (outcome === 'observe') return undefined
  if (outcome === 'verdict' && value === undefined) return undefined
  const kinds = outcome === 'verdict' ? VERDICT_KINDS : QUEUE_KINDS
  if (typeof value === 'object' && value !== null && kinds.has((value as { kind?: unknown }).kind)) return undefined
  return `returned ${describeValue(value)}, not a ${outcome === 'verdict' ? 'Verdict' : 'QueueVerdict'}`
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function isQueueHook(h: unknown): h is QueueHandler {
  const q = h as Partial<QueueHandler> | null
  return typeof q === 'object' && q !== null && typeof q.run === 'function' && QUEUE_KINDS.has(q.onFailure?.kind)
}

function recordError(target: Logger, plugin: { readonly name: string }, hook: string, why: string): void {
  try {
    target.results?.add(plugin, { err: `${hook}: ${why}` })
  } catch {
    // recording is best effort; the log line already names the plugin
  }
}

/**
 * Bad configuration (78), a Haraka other than the one the gateway was checked
 * against (78: an administrator must act, a restart cannot help) or an
 * unavailable resource it names (69) stops startup with one line.
 */
function failStartup(name: string, err: unknown): never {
  if (err instanceof HarakaIncompatibleError) {
    process.stderr.write(`gateway: ${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`gateway: configuration error: ${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  if (err instanceof UnavailableError) {
    process.stderr.write(`gateway: ${err.message}\n`)
    process.exit(69) // EX_UNAVAILABLE
  }
  process.stderr.write(`gateway: plugin ${name} failed to start: ${describeError(err)}\n`)
  process.exit(70) // EX_SOFTWARE
}
