// A private, offline rspamd: its own config, db, run and log folders under one
// directory, only its scan worker (on a loopback port), every module that would
// query DNS or the network turned off (scores do not depend on the Internet and
// scans never wait on DNS), no Redis. `gateway start` runs one under var/rspamd
// when no rspamd answers; the tests run one per test file.
// A cold start takes 12-25 s (rspamd compiles its regular expressions and the
// public-suffix list with hyperscan); the compiled files stay in db/, so the next
// start in the same directory takes 1-2 s. `sharedCache` carries them between
// directories (tests use a fresh directory each time).

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import type { HostPort } from '../../lib/net/address'
import { findBinary, freePort, killGroup, sleep } from './proc'

/** Debian package to install when rspamd is missing. */
export const RSPAMD_PACKAGE = 'rspamd'

/** The rspamd binary: RSPAMD_BIN, else `rspamd` on PATH or in /usr/bin; undefined = not installed. */
export function rspamdBinary(): string | undefined {
  return findBinary('RSPAMD_BIN', ['rspamd'])
}

/** Compiled hyperscan files: what makes the second start fast. */
const COMPILED = /\.(hs|hsmp)$/

/** Modules that use DNS or the network (or Redis, which a private rspamd does not get). */
const OFFLINE_DISABLED = [
  'rbl', 'surbl', 'emails', 'asn', 'spf', 'dkim', 'dmarc', 'arc', 'fuzzy_check', 'hfilter', 'mx_check',
  'phishing', 'url_redirector', 'greylist', 'ratelimit', 'reputation', 'neural', 'replies', 'history_redis',
  'dcc', 'rspamd_update', 'clickhouse', 'elastic', 'metadata_exporter', 'metric_exporter',
]

export interface PrivateRspamdOptions {
  /** Holds conf/, db/ (kept between starts), run/ and log/. Created if missing. */
  dir: string
  /** The rspamd binary (see rspamdBinary()). */
  bin: string
  /** Loopback address of the scan worker (default 127.0.0.1). */
  host?: string
  /** Its port (default: a free one, chosen at start). */
  port?: number
  /** Extra local.d files (name -> content), e.g. a regexp.conf with rules of one's own. */
  localD?: Record<string, string>
  /** A folder of compiled files copied into db/ before start and filled after the first stop. */
  sharedCache?: string
}

export interface WaitOptions {
  /** Give up (and stop rspamd) after this long. Default 120 s. */
  timeoutMs?: number
  /** Aborting stops the start at once (Ctrl-C while waiting). */
  signal?: AbortSignal
  /** Called every 5 s while rspamd is still not answering, with the seconds waited. */
  onWaiting?: (seconds: number) => void
}

export class PrivateRspamd {
  readonly dir: string
  readonly host: string
  port: number
  private child: ChildProcess | undefined
  private exited: Promise<void> | undefined
  private output = ''

  constructor(private readonly opts: PrivateRspamdOptions) {
    this.dir = opts.dir
    this.host = opts.host ?? '127.0.0.1'
    this.port = opts.port ?? 0
  }

  /** host:port of the scan worker, as gateway-spam.ini [main] server wants it. */
  get address(): string {
    return `${this.host}:${this.port}`
  }

  get hostPort(): HostPort {
    return { host: this.host, port: this.port }
  }

  get logFile(): string {
    return path.join(this.dir, 'log', 'rspamd.log')
  }

  async start(wait: WaitOptions = {}): Promise<this> {
    const timeoutMs = wait.timeoutMs ?? 120_000
    if (!this.port) this.port = await freePort(this.host)
    this.writeConfig()
    const d = (name: string) => path.join(this.dir, name)
    // rspamd refuses to run its workers as root: as root, they drop to its own user
    const asUser = process.getuid?.() === 0 ? ['-u', '_rspamd', '-g', '_rspamd'] : []
    const child = spawn(
      this.opts.bin,
      ['-f', ...asUser, '-c', d('conf/rspamd.conf'), `--var=LOCAL_CONFDIR=${d('conf')}`, `--var=DBDIR=${d('db')}`, `--var=RUNDIR=${d('run')}`, `--var=LOGDIR=${d('log')}`],
      // its own process group: a terminal Ctrl-C reaches only our process, and stop() can end the workers too
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    )
    const keep = (s: string) => (this.output = (this.output + s).slice(-20_000))
    child.stdout!.setEncoding('utf8').on('data', keep)
    child.stderr!.setEncoding('utf8').on('data', keep)
    child.once('error', (err) => keep(`\nspawn failed: ${err.message}`))
    this.exited = new Promise((resolve) => child.once('close', () => resolve()))
    this.child = child
    process.once('exit', this.killOnExit)

    const started = Date.now()
    let reported = 0
    while (!(await pingRspamd(this.hostPort))) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
        await this.stop()
        throw new Error(`rspamd exited during startup (log: ${this.logFile}):\n${this.log()}`)
      }
      if (wait.signal?.aborted) {
        await this.stop()
        throw new Error('rspamd start aborted')
      }
      const waited = Date.now() - started
      if (waited > timeoutMs) {
        await this.stop()
        throw new Error(`rspamd did not answer /ping on ${this.address} within ${Math.round(timeoutMs / 1000)} s (log: ${this.logFile}):\n${this.log()}`)
      }
      if (wait.onWaiting && Math.floor(waited / 5000) > reported) wait.onWaiting(5 * ++reported)
      await sleep(200)
    }
    return this
  }

  /** Stops rspamd (and its workers); the port is free afterwards. Its folder stays. */
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

  /** rspamd's own output and the tail of its log file, for failure messages. */
  log(): string {
    const logged = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-5000) : ''
    return `${this.output.slice(-3000)}\n${logged}`
  }

  private readonly killOnExit = () => {
    if (this.child?.pid) killGroup(this.child.pid)
  }

  private writeConfig(): void {
    const d = (name: string) => path.join(this.dir, name)
    for (const sub of ['conf/local.d', 'db', 'run', 'log']) fs.mkdirSync(d(sub), { recursive: true })
    // Generated afresh on every start: local.d holds only what we write now.
    for (const f of fs.readdirSync(d('conf/local.d'))) fs.rmSync(d(`conf/local.d/${f}`), { force: true })
    // Only the scan worker: no controller or proxy on fixed ports that a system rspamd (or a parallel test) holds.
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
    const cache = this.opts.sharedCache
    if (cache && fs.existsSync(cache)) {
      for (const f of fs.readdirSync(cache).filter((n) => COMPILED.test(n))) {
        try {
          fs.copyFileSync(path.join(cache, f), d(`db/${f}`))
        } catch {
          // unreadable (written by another user): rspamd compiles that one itself
        }
      }
    }
    // As root, rspamd's workers run as _rspamd: they must read the config and write
    // db/run/log, which are handed to that user (never made world-writable).
    fs.chmodSync(this.dir, 0o755)
    for (const sub of ['conf', 'conf/local.d']) fs.chmodSync(d(sub), 0o755)
    const owner = process.getuid?.() === 0 ? rspamdUser() : undefined
    for (const sub of ['db', 'run', 'log']) {
      fs.chmodSync(d(sub), 0o750)
      if (owner) fs.chownSync(d(sub), owner.uid, owner.gid)
      for (const f of fs.readdirSync(d(sub))) {
        fs.chmodSync(path.join(d(sub), f), 0o640)
        if (owner) fs.chownSync(path.join(d(sub), f), owner.uid, owner.gid)
      }
    }
  }

  /** Fills the shared cache once (written aside, then renamed: parallel runs never see half a cache). */
  private saveCache(): void {
    const cache = this.opts.sharedCache
    if (!cache || fs.existsSync(cache)) return
    const db = path.join(this.dir, 'db')
    const files = fs.existsSync(db) ? fs.readdirSync(db).filter((n) => COMPILED.test(n)) : []
    if (!files.some((f) => f.endsWith('.hsmp'))) return
    const tmp = `${cache}.tmp-${process.pid}-${Date.now()}`
    try {
      fs.mkdirSync(tmp)
      for (const f of files) fs.copyFileSync(path.join(db, f), path.join(tmp, f))
      fs.renameSync(tmp, cache)
    } catch {
      // another run saved it first, or the disk is full: the cache is only a speed-up
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  }
}

/** True when an rspamd scan worker answers GET /ping with "pong". */
export function pingRspamd(addr: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: addr.host, port: addr.port, path: '/ping', agent: false, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (s: string) => (body = (body + s).slice(0, 100)))
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'pong'))
      res.on('error', () => resolve(false))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}

/** uid/gid of the _rspamd user the Debian package creates (rspamd's workers run as it under root). */
function rspamdUser(): { uid: number; gid: number } | undefined {
  try {
    const line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('_rspamd:'))
    const [, , uid, gid] = line?.split(':') ?? []
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined
  } catch {
    return undefined
  }
}
