// Millisecond unit tests for plugins, without Haraka: a fake connection,
// transaction and queued message (the members the gateway's plugins use), and a
// harness that loads a plugin through the real adapter (declaration checks,
// settings, setup(), the one settle/timeout path) and calls its hooks the way
// Haraka does. What a hook answered comes back as Haraka's result name and the
// reply text a client would see:
//
//   const h = pluginHarness(plugin, { ini: '[main]\nmax_recipients=2\n' })
//   const c = fakeConnection()
//   const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['x@example.com', 'y@example.com', 'z@example.com'] })
//   expect(await h.run('rcpt', c, [txn.rcpt_to[2], {}])).toEqual({ result: 'DENYSOFT', reply: '452 4.5.3 Too many recipients' })
//
// Nothing here imports a test framework, so any test runner can use it.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import * as constants from 'haraka-constants'

import { loadGatewayConfig, type GatewayConfig } from '../config/gateway'
import type { InstanceName } from '../config/paths'
import { loadPluginConfig, type ConfigOf, type ConfigSpec } from '../config/plugin-config'
import { definitionOf, installHooks, instantiate, type GatewayPlugin, type PluginInstance } from './define'
import { gatewayMethod, type HookName } from './hooks'

// Haraka's own address class (the package is ESM-first; its CommonJS build is what Haraka uses)
const { Address } = require('@haraka/email-address') as { Address: new (text: string) => Haraka.Address }

/** Log lines as "<LEVEL> [<plugin>] <message>", as Haraka prints them. */
export type LogLines = string[]

function logger(lines: LogLines, level: string, fallback = '') {
  return (...args: unknown[]) => {
    const [first, ...rest] = args
    const named = typeof first === 'object' && first !== null && 'name' in first
    const who = named ? String((first as { name: unknown }).name) : typeof first === 'string' && rest.length > 0 ? first : fallback
    const text = (named || (typeof first === 'string' && rest.length > 0) ? rest : args).map(String).join(' ')
    lines.push(`${level} ${who ? `[${who}] ` : ''}${text}`)
  }
}

function logMethods(lines: LogLines, fallback?: string) {
  return {
    logdebug: logger(lines, 'DEBUG', fallback),
    loginfo: logger(lines, 'INFO', fallback),
    lognotice: logger(lines, 'NOTICE', fallback),
    logwarn: logger(lines, 'WARN', fallback),
    logerror: logger(lines, 'ERROR', fallback),
    logcrit: logger(lines, 'CRIT', fallback),
  }
}

function notes(): Haraka.Notes {
  const n = {} as Haraka.Notes
  Object.defineProperty(n, 'get', { value: (p: string) => p.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], n) })
  Object.defineProperty(n, 'set', { value: (p: string, v: unknown) => ((n as Record<string, unknown>)[p] = v) })
  return n
}

const APPENDED = new Set(['msg', 'pass', 'fail', 'skip', 'err'])

/** haraka-results' behaviour in brief: msg/pass/fail/skip/err are lists that grow, other keys are replaced. */
export class FakeResults implements Haraka.ResultStore {
  readonly store = new Map<string, Record<string, unknown>>()
  add(plugin: { name: string } | string, result: Record<string, unknown>): void {
    const name = typeof plugin === 'string' ? plugin : plugin.name
    const entry = this.store.get(name) ?? {}
    for (const [k, v] of Object.entries(result)) {
      entry[k] = APPENDED.has(k) ? [...((entry[k] as unknown[] | undefined) ?? []), v] : v
    }
    this.store.set(name, entry)
  }
  push(plugin: { name: string } | string, result: Record<string, unknown>): void {
    this.add(plugin, result)
  }
  get(plugin: { name: string } | string): Record<string, unknown> | undefined {
    return this.store.get(typeof plugin === 'string' ? plugin : plugin.name)
  }
}

export interface FakeConnection extends Haraka.Connection {
  results: FakeResults
  /** Everything logged against this connection. */
  readonly log: LogLines
  /** What respond() sent, as "<code> <text>". */
  readonly responses: string[]
}

export interface ConnectionOptions {
  ip?: string
  /** The EHLO name (and verb EHLO). */
  helo?: string
  tls?: boolean
  relaying?: boolean
}

let sequence = 0

export function fakeConnection(opts: ConnectionOptions = {}): FakeConnection {
  const log: LogLines = []
  const responses: string[] = []
  const ip = opts.ip ?? '192.0.2.10'
  const c = {
    uuid: `TEST-${++sequence}`,
    remote: { ip, port: 40000 + (sequence % 20000), host: 'client.sender.test', is_private: false, is_local: false },
    local: { ip: '198.51.100.1', port: 25, host: 'mx.example.com', info: 'Haraka' },
    hello: { verb: opts.helo ? 'EHLO' : null, host: opts.helo ?? null },
    tls: { enabled: opts.tls ?? false, advertised: false, verified: false },
    relaying: opts.relaying ?? false,
    notes: notes(),
    results: new FakeResults(),
    transaction: null,
    capabilities: [],
    respond(code: number, msg: string | string[], cb?: () => void) {
      responses.push(`${code} ${Array.isArray(msg) ? msg.join(' ') : msg}`)
      cb?.()
    },
    auth_results: () => '',
    log,
    responses,
    ...logMethods(log),
  }
  return c as unknown as FakeConnection
}

export interface TransactionOptions {
  from?: string
  to?: string[]
  /** Header fields as "Name: value". */
  headers?: string[]
  body?: string
}

/** Starts a transaction on `c` (as MAIL FROM does) with the envelope, header and body given. */
export function fakeTransaction(c: Haraka.Connection, opts: TransactionOptions = {}): Haraka.Transaction {
  const header = fakeHeader(opts.headers ?? [])
  const body = opts.body ?? ''
  const txn = {
    uuid: `${c.uuid}.1`,
    mail_from: new Address(`<${opts.from ?? ''}>`),
    rcpt_to: (opts.to ?? []).map((a) => new Address(`<${a}>`)),
    notes: notes(),
    results: new FakeResults(),
    header,
    get data_bytes() {
      return Buffer.byteLength(header.header_list.join('') + '\n' + body)
    },
    message_stream: {
      pipe(dest: NodeJS.WritableStream) {
        dest.end(header.header_list.join('').replace(/\n/g, '\r\n') + '\r\n' + body.replace(/\r?\n/g, '\r\n'))
        return dest
      },
      // haraka-message-stream is an EventEmitter; this one never fails to read
      on() {
        return this
      },
      once() {
        return this
      },
      removeListener() {
        return this
      },
    },
    // the header lines Haraka parsed (transaction.js), as gateway-content's header-limit check reads them
    get header_lines() {
      return header.header_list
    },
    parse_body: false,
    add_header: (name: string, value: string) => header.add(name, value),
    add_leading_header: (name: string, value: string) => header.add(name, value),
    remove_header: (name: string) => header.remove(name),
  }
  c.transaction = txn as unknown as Haraka.Transaction
  return c.transaction
}

interface FakeHeader extends Haraka.HeaderStore {
  add(name: string, value: string): void
  remove(name: string): void
}

function fakeHeader(fields: string[]): FakeHeader {
  const header_list = fields.map((f) => `${f}\n`)
  const all = (name: string) =>
    header_list
      .map((l) => /^([^:\s]+)[ \t]*:[ \t]*([\s\S]*?)\n?$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[1]!.toLowerCase() === name.toLowerCase())
      .map((m) => m[2]!)
  const h = {
    header_list,
    get headers() {
      const out: Record<string, string[]> = Object.create(null)
      for (const l of header_list) {
        const name = /^([^:\s]+)[ \t]*:/.exec(l)?.[1]?.toLowerCase()
        if (name) out[name] = all(name)
      }
      return out
    },
    get headers_decoded() {
      return h.headers
    },
    get: (name: string) => all(name).join('\n'),
    get_all: (name: string) => all(name),
    get_decoded: (name: string) => all(name).join('\n'),
    decode_header: (v: string) => v,
    add(name: string, value: string) {
      header_list.unshift(`${name}: ${value}\n`) // Haraka's Header.add puts new fields on top
    },
    remove(name: string) {
      for (let i = header_list.length - 1; i >= 0; i--) {
        if (new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*:`, 'i').test(header_list[i]!)) header_list.splice(i, 1)
      }
    },
  }
  return h as unknown as FakeHeader
}

export interface FakeQueuedMail extends Haraka.QueuedMail {
  readonly log: LogLines
}

/** A message in the delivery queue, for get_mx, send_email, deferred, bounce and delivered. */
export function fakeQueuedMail(opts: { domain: string; from?: string; to?: string[]; filename?: string }): FakeQueuedMail {
  const log: LogLines = []
  const filename = opts.filename ?? `${Date.now()}_${Date.now()}_0_${process.pid}_test_1_mx.example.com`
  return {
    filename,
    path: path.join(os.tmpdir(), filename),
    num_failures: 0,
    todo: {
      domain: opts.domain,
      mail_from: new Address(`<${opts.from ?? ''}>`),
      rcpt_to: (opts.to ?? [`user@${opts.domain}`]).map((a) => new Address(`<${a}>`)),
      notes: {},
      queue_time: Date.now(),
    },
    log,
    ...logMethods(log),
  } as unknown as FakeQueuedMail
}

/** What a hook answered: Haraka's result name and, for a refusal, the reply a client sees. */
export interface HookAnswer {
  /** CONT, OK, DENY, DENYSOFT, DENYDISCONNECT, DENYSOFTDISCONNECT, DELAY. */
  readonly result: string
  /** "550 5.7.1 Relaying denied" for a refusal. */
  readonly reply?: string
  /** The payload of OK (a reply text, an MX list) or DELAY (seconds). */
  readonly value?: unknown
}

export interface HarnessOptions<S extends ConfigSpec | undefined> {
  /** Default: the first instance the plugin declares. */
  instance?: InstanceName
  /** The plugin's settings as setup() gets them; default: read from `ini`. */
  config?: ConfigOf<S>
  /** The text of the plugin's .ini, validated as at startup; default: none (all defaults). */
  ini?: string
  /** Shared settings; default: accepted domain example.com, internal server 127.0.0.1:2526. */
  gateway?: GatewayConfig
  /** Modules for plugin.haraka_require (Haraka internals some plugins extend). */
  haraka?: Record<string, unknown>
  /** Haraka config files for plugin.config.get (e.g. 'connection.ini'). */
  harakaConfig?: Record<string, unknown>
}

export interface Harness {
  /** Haraka's plugin object as the plugin saw it. */
  readonly plugin: Haraka.Plugin
  /** What the plugin logged outside any connection (setup, startup). */
  readonly log: LogLines
  /** The hooks setup() enabled, in registration order. */
  readonly hooks: readonly HookName[]
  /** Calls one hook as Haraka would: (next, connection | queued mail | queueing context, params). */
  run(hook: HookName, subject: unknown, params?: unknown): Promise<HookAnswer>
  shutdown(): Promise<void>
}

export function pluginHarness<H extends HookName, S extends ConfigSpec | undefined>(exports: GatewayPlugin<H, S>, opts: HarnessOptions<S> = {}): Harness {
  const def = definitionOf(exports)
  const log: LogLines = []
  const registered: HookName[] = []
  const plugin = {
    name: def.name,
    timeout: 30,
    config: { get: (name: string) => opts.harakaConfig?.[name] },
    register_hook(hook: string) {
      registered.push(hook as HookName)
    },
    inherits() {
      throw new Error('inherits() is not available in unit tests')
    },
    haraka_require(name: string) {
      if (opts.haraka && Object.hasOwn(opts.haraka, name)) return opts.haraka[name]
      throw new Error(`haraka_require(${JSON.stringify(name)}) is not available in unit tests: pass it as { haraka: { ${JSON.stringify(name)}: ... } }`)
    },
    ...logMethods(log, def.name),
  } as unknown as Haraka.Plugin
  const instance: PluginInstance<H> = instantiate(def, {
    plugin,
    instance: opts.instance ?? def.instances[0]!,
    config: opts.config !== undefined ? (opts.config as ConfigOf<S>) : configFrom(def.name, def.config as S, opts.ini),
    gateway: opts.gateway ?? lazyGateway(),
  })
  installHooks(plugin, def, instance)

  return {
    plugin,
    log,
    hooks: registered,
    run(hook, subject, params) {
      const method = plugin[gatewayMethod(hook)] as ((next: Haraka.Next, s: unknown, p: unknown) => void) | undefined
      if (!method) return Promise.reject(new Error(`${def.name} registered no ${hook} hook (registered: ${registered.join(', ') || 'none'})`))
      return new Promise((resolve) => method((code, msg) => resolve(answer(code, msg)), subject, params))
    },
    async shutdown() {
      await instance.shutdown?.()
    },
  }
}

function answer(code: number | undefined, msg: unknown): HookAnswer {
  const result = constants.translate(code ?? constants.cont)
  const dsn = msg as { code?: unknown; reply?: unknown } | undefined
  if (typeof dsn === 'object' && dsn !== null && typeof dsn.code === 'number' && typeof dsn.reply === 'string') return { result, reply: `${dsn.code} ${dsn.reply}` }
  return msg === undefined ? { result } : { result, value: msg }
}

function configFrom<S extends ConfigSpec | undefined>(name: string, spec: S, ini: string | undefined): ConfigOf<S> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugin-harness-'))
  try {
    const file = path.join(dir, `${name}.ini`)
    if (ini !== undefined) fs.writeFileSync(file, ini)
    return loadPluginConfig(spec, file)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** A stand-in shared configuration, written to a temporary folder and read as at startup (only if the plugin asks). */
export function testGatewayConfig(opts: { acceptedDomains?: string[]; internalHosts?: string[] } = {}): GatewayConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugin-harness-gw-'))
  try {
    const hosts = (opts.internalHosts ?? ['127.0.0.1:2526']).map((h) => `hosts[]=${h}`).join('\n')
    fs.writeFileSync(path.join(dir, 'gateway.ini'), `[internal]\n${hosts}\n`)
    fs.writeFileSync(path.join(dir, 'accepted_domains'), `${(opts.acceptedDomains ?? ['example.com']).join('\n')}\n`)
    return loadGatewayConfig(dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function lazyGateway(): GatewayConfig {
  let cfg: GatewayConfig | undefined
  const get = () => (cfg ??= testGatewayConfig())
  return {
    get dir() {
      return get().dir
    },
    get settings() {
      return get().settings
    },
    get acceptedDomains() {
      return get().acceptedDomains
    },
  }
}
