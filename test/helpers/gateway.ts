// Runs the real gateway for a test: a temporary deployment root holding copies of
// the repository's config/, inbound/ and outbound/ (plus per-test overrides), and
// real Haraka processes started on it exactly as in production
// (node_modules/haraka/bin/haraka -c <instance dir>), on the test's own loopback
// addresses. Nothing of the gateway is mocked.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { vi } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { listQueue } from '../../lib/queue/qfile'
import { SmtpClient, type SmtpReply } from '../../lib/smtp/client'
import { mailDate } from './content-mail'
import { FixtureDns } from './dns-server'
import type { AddressBlock } from './net'
import { waitForMatch } from './wait'

export type Instance = 'inbound' | 'outbound'

export interface GatewayOptions {
  block: AddressBlock
  redisUrl: string
  /** Internal mail servers as host:port. */
  internalHosts: string[]
  dnsServer?: string
  acceptedDomains?: string[]
  /** Extra or replaced files, path relative to the deployment root -> content. */
  files?: Record<string, string>
  /** Which instances to run (default both). */
  instances?: Instance[]
  /**
   * Keep the content scanners (gateway-antivirus, gateway-spam) of the shipped
   * inbound plugin list. Off by default: they need a running clamd / rspamd, which
   * only the scanner tests start. Ignored when `files` brings its own plugin list.
   */
  withScanners?: boolean
  env?: Record<string, string>
}

const TEST_LOG_INI = '[main]\nlevel=info\ntimestamps=true\nformat=default\n'

export const HARAKA_BIN = path.join(GATEWAY_ROOT, 'node_modules', 'haraka', 'bin', 'haraka')

/** Copies the repository's deployment files into a fresh temporary root. */
export function makeDeploymentRoot(files: Record<string, string> = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-test-'))
  const skip = /(tls_key|tls_cert|dhparams)\.pem$|\/config\/me$|smtp-users$|sender-scopes$|\/config\/dkim(\/|$)|\/queue(-control)?(\/|$)/
  for (const dir of ['config', 'inbound', 'outbound']) {
    fs.cpSync(path.join(GATEWAY_ROOT, dir), path.join(root, dir), { recursive: true, filter: (src) => !skip.test(src) })
  }
  // the shipped Prometheus ports would collide between deployments running at once: off unless a test sets them
  for (const instance of ['inbound', 'outbound']) fs.writeFileSync(path.join(root, instance, 'config', 'gateway-metrics.ini'), '[http]\nlisten=off\n')
  // tests read Haraka's and the plugins' detail lines (INFO); test/logging.test.ts runs the shipped level (notice)
  for (const instance of ['inbound', 'outbound']) fs.writeFileSync(path.join(root, instance, 'config', 'log.ini'), TEST_LOG_INI)
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), content)
  }
  return root
}

export class TestGateway {
  readonly root: string
  readonly inbound: { host: string; port: number }
  readonly outbound: { host: string; port: number }
  readonly redisPrefix = `gwtest${process.pid}x${Math.floor(Math.random() * 1e9)}`
  private readonly procs = new Map<Instance, { child: ChildProcess; log: string[]; exit: Promise<number | null> }>()
  /** Without a dnsServer option the gateway gets an empty fixture DNS: every lookup is NXDOMAIN, none leaves the machine. */
  private readonly emptyDns: FixtureDns | undefined

  constructor(readonly opts: GatewayOptions) {
    this.emptyDns = opts.dnsServer ? undefined : new FixtureDns(opts.block.ip(254), 53)
    this.inbound = { host: opts.block.ip(1), port: 2525 }
    this.outbound = { host: opts.block.ip(2), port: 2587 }
    const domains = opts.acceptedDomains ?? ['example.com']
    this.root = makeDeploymentRoot({
      'inbound/config/plugins': shippedInboundPlugins({ withScanners: opts.withScanners ?? false }),
      'config/accepted_domains': `${domains.join('\n')}\n`,
      // fast retries so "internal server down, then up" takes seconds in tests
      'inbound/config/outbound.ini': '[main]\ntemp_fail_intervals=5s*20\nreceived_header=disabled\n',
      'outbound/config/outbound.ini': '[main]\ntemp_fail_intervals=5s*20\nreceived_header=disabled\nlocal_mx_ok=true\n',
      // Haraka's graceful stop waits on timers of its own for ~5 s; tests do not need the grace
      'inbound/config/smtp.ini': '[main]\nnodes=0\ngraceful_shutdown=true\nforce_shutdown_timeout=1\n',
      'outbound/config/smtp.ini': '[main]\nnodes=0\ngraceful_shutdown=true\nforce_shutdown_timeout=1\n',
      // each test gateway's Prometheus endpoints on its own addresses (the shipped ports would collide)
      'inbound/config/gateway-metrics.ini': `[http]\nlisten=${opts.block.ip(1)}:9125\n`,
      'outbound/config/gateway-metrics.ini': `[http]\nlisten=${opts.block.ip(2)}:9126\n`,
      ...opts.files,
    })
  }

  env(instance: Instance): NodeJS.ProcessEnv {
    // Run Haraka as in production: vitest sets NODE_ENV=test, which changes Haraka's behaviour.
    const { NODE_ENV: _nodeEnv, VITEST: _vitest, ...inherited } = process.env
    return {
      ...inherited,
      GATEWAY_INBOUND_LISTEN: `${this.inbound.host}:${this.inbound.port}`,
      GATEWAY_OUTBOUND_LISTEN: `${this.outbound.host}:${this.outbound.port}`,
      GATEWAY_INTERNAL_HOSTS: this.opts.internalHosts.join(','),
      GATEWAY_DNS_SERVERS: this.opts.dnsServer ?? this.emptyDns!.address,
      GATEWAY_REDIS_PREFIX: this.redisPrefix,
      REDIS_URL: this.opts.redisUrl,
      GATEWAY_INSTANCE: instance,
      // var/ (org keys, event log) inside this gateway's own root, not the repository's
      GATEWAY_ROOT: this.root,
      ...this.opts.env,
    }
  }

  async start(): Promise<this> {
    await this.emptyDns?.start()
    await Promise.all((this.opts.instances ?? ['inbound', 'outbound']).map((i) => this.startInstance(i)))
    return this
  }

  async startInstance(instance: Instance): Promise<void> {
    const child = spawn(process.execPath, [HARAKA_BIN, '-c', path.join(this.root, instance)], {
      env: this.env(instance),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const log: string[] = []
    child.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d))
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    this.procs.set(instance, { child, log, exit })
    const listening = this.waitForLog(instance, /Listening on/, 30_000)
    const outcome = await Promise.race([listening.then(() => 'up' as const), exit.then((code) => code)])
    if (outcome !== 'up') throw new Error(`${instance} exited during startup (code ${outcome}):\n${this.log(instance)}`)
  }

  /** Runs an instance that is expected to refuse to start; returns its exit code and output. */
  async startExpectingExit(instance: Instance, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [HARAKA_BIN, '-c', path.join(this.root, instance)], { env: this.env(instance), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
    clearTimeout(timer)
    return { code, stdout, stderr }
  }

  log(instance: Instance): string {
    return this.procs.get(instance)?.log.join('') ?? ''
  }

  /** The end of every started instance's log, for a failed test's report (CI keeps nothing else). */
  logTails(chars = 6000): string {
    return [...this.procs.keys()].map((i) => `--- ${i} log (last ${chars} chars) ---\n${this.log(i).slice(-chars)}`).join('\n')
  }

  async waitForLog(instance: Instance, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const m = await waitForMatch(() => this.log(instance), pattern, { timeoutMs, where: `${instance} log`, tail: 3000 })
    return m[0]
  }

  pid(instance: Instance): number {
    const pid = this.procs.get(instance)?.child.pid
    if (!pid) throw new Error(`${instance} is not running`)
    return pid
  }

  isRunning(instance: Instance): boolean {
    const p = this.procs.get(instance)
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null
  }

  /** SIGHUP makes Haraka retry its temp-failed queue now. */
  flushQueue(instance: Instance): void {
    process.kill(this.pid(instance), 'SIGHUP')
  }

  queueFiles(instance: Instance): string[] {
    const dir = path.join(this.root, instance, 'queue')
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith('.') && !f.startsWith('error.')) : []
  }

  /** Waits until the instance's queue is empty (every delivery done); the error lists what is left. */
  async waitForEmptyQueue(instance: Instance, timeoutMs = 10_000): Promise<void> {
    await vi.waitFor(
      () => {
        const left = this.queueFiles(instance)
        if (left.length > 0) throw new Error(`the ${instance} queue still holds ${left.join(', ')} after ${timeoutMs} ms`)
      },
      { timeout: timeoutMs, interval: 100 },
    )
  }

  /** Waits until a queued message (for `domain`, if given) has failed a delivery attempt: its file renamed with attempts >= 1. */
  async waitForDeferred(instance: Instance, domain?: string, timeoutMs = 30_000): Promise<void> {
    const dir = path.join(this.root, instance, 'queue')
    await vi.waitFor(
      () => {
        if (listQueue(dir).some((m) => m.name.attempts >= 1 && (domain === undefined || m.todo?.domain === domain))) return
        throw new Error(`no deferred message${domain ? ` for ${domain}` : ''} in the ${instance} queue after ${timeoutMs} ms:\n${this.log(instance).slice(-2000)}`)
      },
      { timeout: timeoutMs, interval: 100 },
    )
  }

  async stopInstance(instance: Instance): Promise<number | null> {
    const p = this.procs.get(instance)
    if (!p) return null
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGINT')
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000)
      await p.exit
      clearTimeout(timer)
    }
    return p.exit
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((i) => this.stopInstance(i)))
    await this.emptyDns?.stop()
    fs.rmSync(this.root, { recursive: true, force: true })
  }

  /** An SMTP session to an instance, from `localAddress` if given. */
  async connect(instance: Instance, localAddress?: string): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
    const at = instance === 'inbound' ? this.inbound : this.outbound
    return SmtpClient.connect({ ...at, ...(localAddress ? { localAddress } : {}), timeoutMs: 30_000 })
  }
}

const SCANNERS = new Set(['gateway-antivirus', 'gateway-spam'])

/** The repository's inbound/config/plugins, by default without the content scanners (see withScanners). */
export function shippedInboundPlugins(opts: { withScanners: boolean } = { withScanners: false }): string {
  const plugins = fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', 'plugins'), 'utf8')
  if (opts.withScanners) return plugins
  return plugins
    .split('\n')
    .filter((line) => !SCANNERS.has(line.trim()))
    .join('\n')
}

/** A minimal RFC 5322 message with a unique marker to find it downstream. */
export function testMessage(opts: { from: string; to: string; subject?: string; body?: string; headers?: string[] }): { text: string; marker: string } {
  const marker = `marker-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
  const text = [
    `From: <${opts.from}>`,
    `To: <${opts.to}>`,
    `Subject: ${opts.subject ?? 'test'}`,
    `Message-ID: <${marker}@test.invalid>`,
    `Date: ${mailDate()}`,
    ...(opts.headers ?? []),
    '',
    opts.body ?? `Body ${marker}`,
    '',
  ].join('\r\n')
  return { text, marker }
}

/** One complete SMTP transaction; returns every reply for assertions. */
export async function sendMail(
  client: SmtpClient,
  envelope: { from: string; to: string[] },
  message: string,
): Promise<{ mail: SmtpReply; rcpts: SmtpReply[]; data?: SmtpReply; end?: SmtpReply }> {
  const mail = await client.send(`MAIL FROM:<${envelope.from}>`)
  const rcpts: SmtpReply[] = []
  for (const to of envelope.to) rcpts.push(await client.send(`RCPT TO:<${to}>`))
  if (!rcpts.some((r) => r.code === 250)) return { mail, rcpts }
  const { start, end } = await client.data(message)
  return { mail, rcpts, data: start, ...(end ? { end } : {}) }
}
