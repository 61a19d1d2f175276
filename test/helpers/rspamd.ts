// A private, offline rspamd for tests: its own config, run, db and log folders
// under a temporary directory, its scan worker on a free loopback port, every
// module that would query DNS or the network turned off (scores stay the same
// without Internet), no Redis. Start it once per test file: a cold start takes
// 12-16 s (compiling the public-suffix list), so the compiled hyperscan files are
// kept in os.tmpdir()/gateway-rspamd-cache and copied in on the next start
// (1-2 s). A clean machine without that cache works, only slower.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'

import { freePort } from './redis-server'

export const RSPAMD_BIN = process.env.RSPAMD_BIN ?? '/usr/bin/rspamd'
const CACHE_DIR = path.join(os.tmpdir(), 'gateway-rspamd-cache')
const CACHED = /\.(hs|hsmp)$/

/** Modules that use DNS or the network (or Redis, which the tests do not run). */
const OFFLINE_DISABLED = [
  'rbl', 'surbl', 'emails', 'asn', 'spf', 'dkim', 'dmarc', 'arc', 'fuzzy_check', 'hfilter', 'mx_check',
  'phishing', 'url_redirector', 'greylist', 'ratelimit', 'reputation', 'neural', 'replies', 'history_redis',
  'dcc', 'rspamd_update', 'clickhouse', 'elastic', 'metadata_exporter', 'metric_exporter',
]

export interface RspamdOptions {
  host?: string
  /** Extra local.d files (name -> content), e.g. a regexp.conf with test rules. */
  localD?: Record<string, string>
}

export class TestRspamd {
  readonly host: string
  port = 0
  private readonly dir: string
  private child: ChildProcess | undefined
  private exited: Promise<void> | undefined
  private output = ''

  constructor(private readonly opts: RspamdOptions = {}) {
    this.host = opts.host ?? '127.0.0.1'
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-rspamd-'))
  }

  /** host:port of the scan worker, as gateway-spam.ini [main] server wants it. */
  get address(): string {
    return `${this.host}:${this.port}`
  }

  async start(timeoutMs = 120_000): Promise<this> {
    if (!fs.existsSync(RSPAMD_BIN)) throw new Error(`${RSPAMD_BIN} not found: apt-get install --no-install-recommends rspamd (or set RSPAMD_BIN)`)
    if (!this.port) this.port = await freePort(this.host)
    this.writeConfig()
    const d = (name: string) => path.join(this.dir, name)
    // rspamd refuses to run its workers as root: as root, drop to its own user
    const asUser = process.getuid?.() === 0 ? ['-u', '_rspamd', '-g', '_rspamd'] : []
    const child = spawn(
      RSPAMD_BIN,
      ['-f', ...asUser, '-c', d('conf/rspamd.conf'), `--var=LOCAL_CONFDIR=${d('conf')}`, `--var=DBDIR=${d('db')}`, `--var=RUNDIR=${d('run')}`, `--var=LOGDIR=${d('log')}`],
      // its own process group, so stop() can end its workers too
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    )
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.output = (this.output + s).slice(-20_000)))
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.output = (this.output + s).slice(-20_000)))
    child.once('error', (err) => (this.output += `\nspawn failed: ${err.message}`))
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    this.child = child
    process.once('exit', this.killOnExit)

    const until = Date.now() + timeoutMs
    while (!(await this.ping())) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`rspamd exited during startup:\n${this.log()}`)
      if (Date.now() > until) {
        await this.stop()
        throw new Error(`rspamd did not answer /ping on ${this.address} within ${timeoutMs} ms:\n${this.log()}`)
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    return this
  }

  /** Stops rspamd (and its workers); the port is free afterwards. */
  async stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    process.removeListener('exit', this.killOnExit)
    if (!child || !child.pid) return
    if (child.exitCode === null && child.signalCode === null) {
      // rspamd's main process stops its workers on SIGTERM; the whole group only if it hangs
      child.kill('SIGTERM')
      const timer = setTimeout(() => killGroup(child.pid!), 10_000)
      await this.exited
      clearTimeout(timer)
    }
    this.saveCache()
  }

  /** Stops rspamd and removes its folders. */
  async destroy(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }

  /** rspamd's own output and the tail of its log file, for failure messages. */
  log(): string {
    const file = path.join(this.dir, 'log', 'rspamd.log')
    const logged = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(-5000) : ''
    return `${this.output.slice(-3000)}\n${logged}`
  }

  private readonly killOnExit = () => {
    if (this.child?.pid) killGroup(this.child.pid)
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.get({ host: this.host, port: this.port, path: '/ping', agent: false, timeout: 1000 }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (s: string) => (body += s))
        res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'pong'))
      })
      req.on('timeout', () => req.destroy())
      req.on('error', () => resolve(false))
    })
  }

  private writeConfig(): void {
    const d = (name: string) => path.join(this.dir, name)
    for (const sub of ['conf/local.d', 'db', 'run', 'log']) fs.mkdirSync(d(sub), { recursive: true })
    // Only the scan worker: no controller or proxy on fixed ports that parallel runs would fight over.
    fs.writeFileSync(
      d('conf/rspamd.conf'),
      `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
  type = "file";
  filename = "$LOGDIR/rspamd.log";
  level = "info";
}
worker "normal" {
  bind_socket = "${this.host}:${this.port}";
  mime = true;
  count = 1;
}
`,
    )
    for (const m of OFFLINE_DISABLED) fs.writeFileSync(d(`conf/local.d/${m}.conf`), 'enabled = false;\n')
    // no DNS waits at all: every lookup fails at once
    fs.writeFileSync(d('conf/local.d/options.inc'), 'dns { timeout = 0.1s; retransmits = 1; }\n')
    for (const [name, content] of Object.entries(this.opts.localD ?? {})) fs.writeFileSync(d(`conf/local.d/${name}`), content)
    if (fs.existsSync(CACHE_DIR)) {
      for (const f of fs.readdirSync(CACHE_DIR).filter((n) => CACHED.test(n))) {
        try {
          fs.copyFileSync(path.join(CACHE_DIR, f), d(`db/${f}`))
        } catch {
          // unreadable (written by another user): rspamd compiles that one itself
        }
      }
    }
    // rspamd's workers run as _rspamd when we are root: they must read the
    // config and write db/run/log
    fs.chmodSync(this.dir, 0o755)
    for (const sub of ['conf', 'conf/local.d']) fs.chmodSync(d(sub), 0o755)
    for (const sub of ['db', 'run', 'log']) {
      fs.chmodSync(d(sub), 0o777)
      for (const f of fs.readdirSync(d(sub))) fs.chmodSync(path.join(d(sub), f), 0o666)
    }
  }

  /** Keeps the compiled files for the next start (written aside, then renamed: parallel runs never see half a cache). */
  private saveCache(): void {
    if (fs.existsSync(CACHE_DIR)) return
    const db = path.join(this.dir, 'db')
    const files = fs.existsSync(db) ? fs.readdirSync(db).filter((n) => CACHED.test(n)) : []
    if (!files.some((f) => f.endsWith('.hsmp'))) return
    const tmp = `${CACHE_DIR}.tmp-${process.pid}-${Date.now()}`
    try {
      fs.mkdirSync(tmp)
      for (const f of files) fs.copyFileSync(path.join(db, f), path.join(tmp, f))
      fs.renameSync(tmp, CACHE_DIR)
    } catch {
      // another run saved it first, or the disk is full: the cache is only a speed-up
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}
