// `gateway start`: the whole gateway in the foreground. Validates the
// configuration, makes sure Redis is there (the configured one, or a private
// redis-server under var/redis), finds the scan engines (the configured rspamd
// and clamd, else private ones under var/rspamd and var/clamd, else scanning OFF
// with mail marked unscanned), starts the demo mailbox if configured, starts
// both Haraka instances, waits until they listen and prints what runs where.
// With no Redis anywhere it runs standalone (see launcher/redis.ts), saying so.
// Ctrl-C (or SIGTERM from systemd) stops everything cleanly, during startup too.
// An instance that dies while running is restarted (with back-off, logged loudly)
// while the other keeps running; after [launcher] restarts_per_minute restarts of
// one instance within a minute (or a configuration error) the launcher gives up,
// stops the rest and exits non-zero. Dying during startup stops everything.
// While it runs, var/run/gateway.json tells the other `gateway` commands which
// Redis and addresses it uses (lib/config/run-state.ts); every exit removes it.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ConfigError } from '../lib/config/errors'
import { dashboardListenSetting, listenSetting, loadGatewayConfig, type GatewayConfig } from '../lib/config/gateway'
import { checkInstance } from '../lib/config/instance'
import { deploymentRoot, displayPath, instanceDir, type InstanceName } from '../lib/config/paths'
import { startMailbox, type Mailbox } from './launcher/demo-mailbox'
import { ensureEngine, planSpamEngine, planVirusEngine, type EngineHandle, type EnginePlan } from './launcher/scanners'
import { formatHostPort, type HostPort } from '../lib/net/address'
import { copyPrefixed } from './launcher/prefix-lines'
import { killGroup } from './launcher/proc'
import { RestartBudget } from './launcher/restart-budget'
import { listenProblem } from '../lib/net/listen-check'
import { probeInternalHosts, unreachableLines } from '../lib/links/banner'
import { redact, REDIS_MODE_ENV } from '../lib/redis/client'
import { redisFilesOf } from '../lib/redis/redis-files'
import { processStart, readRuntimeState, removeRuntimeState, runtimeFile, writeRuntimeState, type RuntimeState } from '../lib/config/run-state'
import { ensureRedis, type RedisHandle } from './launcher/redis'
import { dashboardOptions, describeListenFailure } from '../lib/dashboard/settings'
import { startDashboard, type RunningDashboard } from '../lib/dashboard/server'
import { metricsBannerLine } from '../lib/metrics/banner'

const INSTANCES: readonly InstanceName[] = ['inbound', 'outbound']
const STARTUP_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 20_000
/** The window of gateway.ini [launcher] restarts_per_minute. */
const RESTART_WINDOW_MS = 60_000

interface Running {
  name: InstanceName
  child: ChildProcess
  exited: Promise<number>
  /** Resolves once the instance has logged `count` "Listening on" lines. */
  listening(count: number): Promise<void>
}

export async function start(): Promise<number> {
  let cfg: GatewayConfig
  let engines: EnginePlan[]
  try {
    cfg = loadGatewayConfig()
    const plugins = new Map(INSTANCES.map((name) => [name, checkInstance(instanceDir(name), name, { pluginSettings: true })]))
    const inbound = plugins.get('inbound')!
    engines = [planSpamEngine(instanceDir('inbound'), inbound), planVirusEngine(instanceDir('inbound'), inbound)]
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`gateway: configuration error: ${err.message}`)
    return 78
  }

  // Before anything starts: a second launcher on this deployment would share its
  // queues and overwrite its runtime file; a taken address would kill an instance.
  const root = deploymentRoot()
  const other = readRuntimeState(root)
  if (other.kind === 'running') {
    const s = other.state
    console.error(
      `gateway: a gateway already runs from ${root} (pid ${s.pid}, since ${s.startedAt}; ${displayPath(other.file)}): stop it first (Ctrl-C in its terminal, or kill -INT ${s.pid}), or use another GATEWAY_ROOT`,
    )
    return 69
  }
  const taken = await firstUnavailable(cfg)
  if (taken) {
    console.error(`gateway: cannot listen on ${taken}`)
    return 69 // EX_UNAVAILABLE
  }

  // From here on Ctrl-C must stop whatever already runs: private engines and
  // Redis live in their own process groups and would outlive the launcher.
  // SIGHUP too: a closed terminal or ssh session must stop the gateway, not orphan it.
  // A second signal stops at once: process.exit runs the 'exit' handlers, which
  // SIGKILL every child process group still alive.
  const interrupted = new AbortController()
  const signalled = new Promise<'signal'>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        if (interrupted.signal.aborted) {
          console.error(`gateway: ${sig} again: stopping immediately`)
          process.exit(1)
        }
        interrupted.abort()
        resolve('signal')
      })
    }
  })
  process.on('exit', () => {
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null && r.child.pid) killGroup(r.child.pid)
    // every way out (return, second signal, a thrown bug) ends in process.exit
    removeRuntimeState(root)
  })
  const started: (() => Promise<void>)[] = [] // stop functions of Redis, engines, mailbox, in start order
  let running: Running[] = []
  let stopping = false
  const stopAll = async (): Promise<void> => {
    stopping = true
    await Promise.all(running.map((r) => stopInstance(r)))
    for (const stop of started.splice(0).reverse()) await stop()
  }
  const stoppedBySignal = async (): Promise<number> => {
    console.log('gateway: stopping...')
    await stopAll()
    console.log('gateway: stopped')
    return 0
  }

  let redis: RedisHandle
  try {
    redis = await ensureRedis(cfg.settings.redis.url, path.join(deploymentRoot(), 'var', 'redis'), redisFilesOf(cfg.settings.redis))
  } catch (err) {
    console.error(`gateway: ${(err as Error).message}`)
    return 69 // EX_UNAVAILABLE
  }
  started.push(() => redis.stop())
  const mailboxAt = cfg.settings.demo.mailbox_listen
  const runtime = runtimeState(cfg, redis, mailboxAt)
  const publish = (update: Partial<RuntimeState>) => writeRuntimeState(root, Object.assign(runtime, update))
  // Written as soon as the Redis is known: `gateway stats` works during a slow engine start too.
  publish({})
  if (interrupted.signal.aborted) return stoppedBySignal()

  // Both engines at once: a cold rspamd takes 12-25 s, clamd with real signatures as long.
  const found = await Promise.allSettled(
    engines.map((plan) =>
      ensureEngine(plan, {
        privateDir: path.join(deploymentRoot(), 'var', plan.engine),
        signal: interrupted.signal,
        log: (line) => console.log(`gateway: ${line}`),
      }),
    ),
  )
  const scanners: EngineHandle[] = []
  for (const f of found) {
    if (f.status === 'fulfilled') {
      scanners.push(f.value)
      started.push(() => f.value.stop())
    }
  }
  if (interrupted.signal.aborted) return stoppedBySignal()
  const failed = found.find((f): f is PromiseRejectedResult => f.status === 'rejected')
  if (failed) {
    // a bug: ensureEngine reports engine trouble in its banner line, it does not throw
    await stopAll()
    throw failed.reason
  }

  let mailbox: Mailbox | undefined
  const mailboxDir = path.resolve(deploymentRoot(), cfg.settings.demo.mailbox_dir)
  if (mailboxAt) {
    try {
      mailbox = await startMailbox({ ...mailboxAt, dir: mailboxDir, log: (l) => console.log(`[demo-mailbox] ${l}`) })
    } catch (err) {
      console.error(`gateway: cannot start the demo mailbox on ${formatHostPort(mailboxAt)}: ${(err as Error).message}`)
      await stopAll()
      return 69
    }
    const box = mailbox
    started.push(() => box.close())
  }

  // Checked while the instances start (after the demo mailbox, which may be one of them): costs no startup time when hosts answer.
  const internalProbes = probeInternalHosts(cfg.settings.internal.hosts)

  // The scanner settings reach the inbound instance only (outbound loads no scanner).
  const scannerEnv = Object.assign({}, ...scanners.map((s) => s.env)) as Record<string, string>
  const redisEnv = { REDIS_URL: redis.url, [REDIS_MODE_ENV]: redis.mode === 'standalone' ? 'standalone' : '' }
  const envOf = (name: InstanceName) => ({ ...redisEnv, ...(name === 'inbound' ? scannerEnv : {}) })
  running = INSTANCES.map((name) => spawnInstance(name, envOf(name)))
  publish({ instances: instancesOf(cfg, running) })

  const firstExit = Promise.race(running.map((r) => r.exited.then((code) => ({ r, code }))))
  // Ready when each instance says it listens: a port answering could also be a leftover process.
  const ready = Promise.all(running.map((r) => r.listening(cfg.settings[r.name].listen.length)))
  const startup = await Promise.race([ready.then(() => 'ready' as const), firstExit, signalled, sleep(STARTUP_TIMEOUT_MS).then(() => 'timeout' as const)])
  if (startup === 'signal') return stoppedBySignal()
  if (startup !== 'ready') {
    const why = startup === 'timeout' ? 'did not start listening in time' : `${startup.r.name} exited during startup (code ${startup.code})`
    console.error(`gateway: ${why}; see the log lines above`)
    await stopAll()
    return startup !== 'timeout' && startup.code === 78 ? 78 : 1
  }

  // The dashboard, in-process: its address was checked before anything started.
  let dashboard: RunningDashboard | undefined
  const dashboardOpts = dashboardOptions(cfg, { url: redis.url, prefix: cfg.settings.redis.prefix }, (line) => console.error(`gateway: ${line}`))
  if (dashboardOpts) {
    try {
      dashboard = await startDashboard(dashboardOpts)
    } catch (err) {
      console.error(`gateway: cannot listen on ${describeListenFailure(cfg, dashboardOpts.listen, (err as Error).message)}`)
      await stopAll()
      return 69
    }
    const served = dashboard
    started.push(() => served.close())
  }

  publish({ status: 'running' })
  const unreachable = unreachableLines(await internalProbes)
  printBanner(cfg, redis, engines.map((plan, i) => ({ plan, handle: scanners[i]! })), mailboxAt ? { at: mailboxAt, dir: mailboxDir } : undefined, unreachable, dashboard && { url: dashboard.url, token: cfg.settings.dashboard.token !== '' })

  // Supervision: a crashed instance is restarted, the other one keeps serving.
  const perMinute = cfg.settings.launcher.restarts_per_minute
  const budgets = new Map(INSTANCES.map((name) => [name, new RestartBudget(perMinute, RESTART_WINDOW_MS)]))
  for (;;) {
    const exit = Promise.race(running.map((r) => r.exited.then((code) => ({ r, code }))))
    const outcome = await Promise.race([signalled, exit])
    if (outcome === 'signal') return stoppedBySignal()
    const { r: crashed, code } = outcome
    const plan = code === 78 ? undefined : budgets.get(crashed.name)!.next(Date.now())
    if (!plan) {
      const why =
        code === 78
          ? 'with a configuration error (see above): not restarting it'
          : perMinute === 0
            ? 'and restarts are off ([launcher] restarts_per_minute=0)'
            : `${perMinute + 1} times within ${RESTART_WINDOW_MS / 1000} s: giving up`
      console.error(`gateway: ${crashed.name} exited unexpectedly (code ${code}) ${why}; stopping the gateway`)
      await stopAll()
      return 1
    }
    const others = running.filter((r) => r !== crashed).map((r) => r.name)
    console.error(
      `gateway: ${crashed.name} exited unexpectedly (code ${code}); restarting it in ${plan.delayMs / 1000} s ` +
        `(restart ${plan.nth} of at most ${perMinute} per minute); ${others.join(', ')} keeps running`,
    )
    const waited = await Promise.race([signalled, sleep(plan.delayMs).then(() => 'waited' as const)])
    if (waited === 'signal') return stoppedBySignal()
    const fresh = spawnInstance(crashed.name, envOf(crashed.name))
    running = running.map((r) => (r === crashed ? fresh : r))
    publish({ instances: instancesOf(cfg, running) })
    void fresh.listening(cfg.settings[fresh.name].listen.length).then(() => {
      if (!stopping) console.log(`gateway: ${fresh.name} restarted (pid ${fresh.child.pid}) and listening again`)
    })
  }
}

/** The first listen address (instances, demo mailbox) this process cannot bind, with the setting that names it. */
async function firstUnavailable(cfg: GatewayConfig): Promise<string | undefined> {
  const wanted: [HostPort, string][] = INSTANCES.flatMap((name) => cfg.settings[name].listen.map((a): [HostPort, string] => [a, `${name} instance, ${listenSetting(cfg, name)}`]))
  const mailbox = cfg.settings.demo.mailbox_listen
  const mailboxSetting = process.env.GATEWAY_DEMO_MAILBOX ? 'environment variable GATEWAY_DEMO_MAILBOX' : `${displayPath(path.join(cfg.dir, 'gateway.ini'))} [demo] mailbox_listen`
  if (mailbox) wanted.push([mailbox, `demo mailbox, ${mailboxSetting}`])
  const dashboard = cfg.settings.dashboard.listen
  if (dashboard) wanted.push([dashboard, `dashboard, ${dashboardListenSetting(cfg)}`])
  for (const [addr, what] of wanted) {
    const problem = await listenProblem(addr)
    if (problem) return `${formatHostPort(addr)} (${what}): ${problem}`
  }
  return undefined
}

function runtimeState(cfg: GatewayConfig, redis: RedisHandle, mailbox: HostPort | null): RuntimeState {
  return {
    version: 1,
    pid: process.pid,
    pidStart: processStart(process.pid),
    startedAt: new Date().toISOString(),
    status: 'starting',
    redis: { mode: redis.mode, url: redis.url, prefix: cfg.settings.redis.prefix },
    instances: instancesOf(cfg, []),
    internalHosts: cfg.settings.internal.hosts.map(formatHostPort),
    demoMailbox: mailbox ? formatHostPort(mailbox) : null,
  }
}

function instancesOf(cfg: GatewayConfig, running: readonly Running[]): RuntimeState['instances'] {
  const of = (name: InstanceName) => ({
    listen: cfg.settings[name].listen.map(formatHostPort),
    pid: running.find((r) => r.name === name)?.child.pid ?? null,
  })
  return { inbound: of('inbound'), outbound: of('outbound') }
}

function spawnInstance(name: InstanceName, extraEnv: Record<string, string>): Running {
  const harakaBin = require.resolve('haraka/bin/haraka')
  const child = spawn(process.execPath, [harakaBin, '-c', instanceDir(name)], {
    env: { ...process.env, ...extraEnv, GATEWAY_INSTANCE: name },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal Ctrl-C reaches only the launcher, which then
    // sends exactly one SIGINT (a second SIGINT makes Haraka exit without cleanup).
    detached: true,
  })
  let listeners = 0
  const onListening = new Set<() => void>()
  // one write per chunk with "[name] " per line (readline + console.log per line cost ~10 % CPU)
  const write = (text: string) => process.stdout.write(text)
  for (const stream of [child.stdout, child.stderr]) {
    copyPrefixed(stream!, `[${name}] `, write, () => {
      listeners++
      for (const check of onListening) check()
    })
  }
  // killed by a signal: 128 + its number, as a shell says it (kill -9: 137)
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1))))
  const listening = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (listeners >= count) {
          onListening.delete(check)
          resolve()
        }
      }
      onListening.add(check)
      check()
    })
  return { name, child, exited, listening }
}

async function stopInstance(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return
  r.child.kill('SIGINT') // what Haraka handles (SIGTERM only as PID 1)
  const timer = setTimeout(() => r.child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await r.exited
  clearTimeout(timer)
}

const metricsFile = (instance: InstanceName) => path.join(instanceDir(instance), 'config', 'gateway-metrics.ini')

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function printBanner(
  cfg: GatewayConfig,
  redis: RedisHandle,
  scanners: { plan: EnginePlan; handle: EngineHandle }[],
  demo: { at: HostPort; dir: string } | undefined,
  unreachableInternal: readonly string[],
  dashboard: { url: string; token: boolean } | undefined,
): void {
  const { settings } = cfg
  const list = (a: readonly HostPort[]) => a.map(formatHostPort).join(', ')
  const internal = settings.internal.hosts
    .map((h) => (demo && h.host === demo.at.host && h.port === demo.at.port ? `${formatHostPort(h)} (DEMO mailbox: stores .eml files in ${demo.dir})` : formatHostPort(h)))
    .join(', then ')
  const usersFile = path.join(instanceDir('outbound'), 'config', 'smtp-users')
  const lines = [
    '',
    'Edge SMTP gateway is running',
    `  inbound   ${list(settings.inbound.listen)}`,
    `            accepts anonymous Internet mail for: ${[...cfg.acceptedDomains].join(', ')} (no AUTH, STARTTLS offered)`,
    `            delivers it through its disk queue to: ${internal}`,
    ...unreachableInternal,
    `  outbound  ${list(settings.outbound.listen)}`,
    `            relays for authenticated senders only (AUTH after STARTTLS) to the Internet by MX`,
    `            users: ${fs.existsSync(usersFile) ? usersFile : 'none yet: add one with "node bin/gateway user add NAME"'}`,
    ...redisLines(redis),
    ...(dashboard ? [`  dashboard ${dashboard.url}${dashboard.token ? ' (token required: open it as ?token=SECRET once)' : ''}`] : []),
    metricsBannerLine({ inbound: metricsFile('inbound'), outbound: metricsFile('outbound') }),
    ...scanners.map(({ plan, handle }) => `  ${plan.engine.padEnd(9)} ${handle.line}`),
    `  runtime   ${runtimeFile(deploymentRoot())} (how the other gateway commands find this gateway)`,
    '',
    `  Try it:   node bin/gateway send --to someone@${[...cfg.acceptedDomains][0]}`,
    '  Follow:   node bin/gateway track --since 10m   (each message through both instances); gateway links, gateway stats',
    '  Stop:     Ctrl-C',
    '',
  ]
  console.log(lines.join('\n'))
}

function redisLines(redis: RedisHandle): string[] {
  if (redis.mode === 'standalone') {
    return [
      '  redis     OFF (standalone: counters kept in each process and written to Redis once one is configured and reachable; AUTH lockout and harvest defence enforced per process)',
      `            Redis is ${redis.why}`,
    ]
  }
  if (redis.mode === 'private') {
    // its password is never printed: the other commands read it from the runtime file
    const bare = redis.url.replace(/\/\/[^@/]*@/, '//')
    return [`  redis     ${bare} (private redis-server, data in ${redis.dir}, password in ${path.join(redis.dir!, 'redis.password')})`]
  }
  return [`  redis     ${redact(redis.url)}`]
}
