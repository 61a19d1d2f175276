// The one adapter between typed gateway plugins and Haraka's callback API.
//
// Haraka's own contract is easy to break: a synchronous throw is logged and treated
// as "continue" (the check silently fails open), a rejected promise is an unhandled
// rejection that exits the process, and a hook that never calls `next` stalls the
// client for 30 s. Every hook of every gateway plugin therefore runs through
// `runHook`, which settles `next` exactly once: with the hook's verdict, with a
// 451 4.3.0 if it throws or rejects, or with a 451 4.3.0 when it overruns its time.

import * as constants from 'haraka-constants'
import DSN from 'haraka-dsn'

import { ConfigError, UnavailableError } from '../config/errors'
import { instanceFromEnv, type InstanceName } from '../config/paths'
import { REPLIES } from '../smtp/reply'
import type { HookResult, Verdict } from './verdict'

type Awaitable<T> = T | Promise<T>
type Result = Awaitable<HookResult>
type Conn = Haraka.Connection
type EnvelopeParams = [Haraka.Address, Record<string, string>]

/** The hooks gateway plugins use, with the arguments Haraka passes. */
export interface Hooks {
  connect_init(c: Conn): Result
  connect(c: Conn): Result
  capabilities(c: Conn): Result
  helo(c: Conn, host: string): Result
  ehlo(c: Conn, host: string): Result
  unrecognized_command(c: Conn, params: string[]): Result
  mail(c: Conn, params: EnvelopeParams): Result
  rcpt(c: Conn, params: EnvelopeParams): Result
  rcpt_ok(c: Conn, rcpt: Haraka.Address): Result
  data(c: Conn): Result
  data_post(c: Conn): Result
  /** After DATA went over connection.ini [max] bytes (Haraka answers it; see gateway-content). */
  max_data_exceeded(c: Conn): Result
  queue(c: Conn): Result
  queue_outbound(c: Conn): Result
  queue_ok(c: Conn, msg: string): Result
  /** Runs whenever a hook denied: [code, msg, plugin, method, params, hook]. Observe only. */
  deny(c: Conn, params: [number, unknown, string, string, unknown, string]): Result
  disconnect(c: Conn): Result
  get_mx(hmail: Haraka.HMailItem, domain: string): Result
}

export type HookName = keyof Hooks

/** Hooks whose outcome cannot (or must not) be changed by a failing observer. */
const OBSERVE_ONLY: ReadonlySet<HookName> = new Set<HookName>(['connect_init', 'deny', 'disconnect', 'queue_ok', 'rcpt_ok'])

export interface SetupContext {
  /** Haraka's plugin object (logging, config, register_hook). */
  readonly plugin: Haraka.Plugin
  /** Which gateway instance loads the plugin. */
  readonly instance: InstanceName
}

export interface PluginInstance {
  /** Only the hooks returned here are registered: a disabled feature costs nothing. */
  readonly hooks: Partial<Hooks>
  /** Flush and close what the plugin opened; Haraka calls it on graceful shutdown. */
  readonly shutdown?: () => Awaitable<void>
}

export interface PluginDefinition {
  /** The name operators put in config/plugins (and the log prefix). */
  readonly name: string
  /** Longest a hook may take before the client gets a 451 4.3.0 (default 20 s, under Haraka's 30 s). */
  readonly hookTimeoutMs?: number
  /** Reads and validates configuration, then returns the hooks it needs. Throw ConfigError on bad config. */
  setup(ctx: SetupContext): PluginInstance
}

/** Haraka's exports for a plugin: `register` and `shutdown` (only enumerable exports are copied). */
export interface HarakaExports {
  register(this: Haraka.Plugin): void
  shutdown(this: Haraka.Plugin): void
}

const DEFAULT_HOOK_TIMEOUT_MS = 20_000

export function definePlugin(def: PluginDefinition): HarakaExports {
  let instance: PluginInstance | undefined

  return {
    register(this: Haraka.Plugin) {
      try {
        instance = def.setup({ plugin: this, instance: instanceFromEnv() })
      } catch (err) {
        failStartup(def.name, err)
      }
      const timeoutMs = def.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS
      for (const [hook, handler] of Object.entries(instance.hooks) as [HookName, HookHandler][]) {
        const method = `gateway_${hook}`
        this[method] = (next: Haraka.Next, target: Conn | Haraka.HMailItem, params: unknown) => {
          runHook(this, hook, handler, next, target, params, timeoutMs)
        }
        this.register_hook(hook, method)
      }
    },
    shutdown(this: Haraka.Plugin) {
      const done = instance?.shutdown
      if (!done) return
      Promise.resolve()
        .then(done)
        .catch((err: unknown) => this.logerror(`shutdown failed: ${describe(err)}`))
    },
  }
}

type HookHandler = (target: unknown, params?: unknown) => Result
type Logger = Pick<Conn, 'logerror' | 'logcrit'>

/** Runs one hook and settles Haraka's `next` exactly once, whatever the hook does. */
export function runHook(
  plugin: Haraka.Plugin,
  hook: HookName,
  handler: HookHandler,
  next: Haraka.Next,
  target: Conn | Haraka.HMailItem,
  params: unknown,
  timeoutMs: number,
): void {
  let settled = false
  const log = target as unknown as Logger
  const settle = (verdict: HookResult) => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    try {
      callNext(next, verdict)
    } catch (err) {
      // Haraka continues the session inside next(): a throw there must not become an
      // unhandled rejection (which exits the process); log it against the plugin.
      log.logerror(plugin, `hook ${hook}: Haraka failed after the verdict: ${describe(err)}`)
    }
  }
  const fail = (why: string) => {
    if (settled) return
    log.logerror(plugin, `hook ${hook} ${why}`)
    recordError(target, plugin, hook, why)
    settle(OBSERVE_ONLY.has(hook) ? undefined : { kind: 'tempfail', reply: REPLIES.localError, disconnect: false })
  }
  const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs)
  try {
    Promise.resolve(handler(target, params)).then(settle, (err: unknown) => fail(`failed: ${describe(err)}`))
  } catch (err) {
    fail(`failed: ${describe(err)}`)
  }
}

function callNext(next: Haraka.Next, verdict: HookResult): void {
  if (!verdict) return next()
  const v: Verdict = verdict
  switch (v.kind) {
    case 'accept':
      return next(constants.ok, v.value)
    case 'reject':
      return next(v.disconnect ? constants.denydisconnect : constants.deny, toDsn(v.reply))
    case 'tempfail':
      return next(v.disconnect ? constants.denysoftdisconnect : constants.denysoft, toDsn(v.reply))
  }
}

function toDsn(r: { code: number; enhanced: string; text: string }): DSN {
  const [, subject, detail] = r.enhanced.split('.').map(Number)
  return new DSN(r.code, r.text, null, subject ?? 0, detail ?? 0)
}

function recordError(target: unknown, plugin: Haraka.Plugin, hook: string, why: string): void {
  const results = (target as Partial<Conn>).results
  try {
    results?.add(plugin, { err: `${hook}: ${why}` })
  } catch {
    // recording is best effort; the log line above already names the plugin
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message
  return String(err)
}

/** Bad configuration (78) or an unavailable resource it names (69) stops startup with one line. */
function failStartup(name: string, err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`gateway: configuration error: ${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  if (err instanceof UnavailableError) {
    process.stderr.write(`gateway: ${err.message}\n`)
    process.exit(69) // EX_UNAVAILABLE
  }
  process.stderr.write(`gateway: plugin ${name} failed to start: ${describe(err)}\n`)
  process.exit(70) // EX_SOFTWARE
}
