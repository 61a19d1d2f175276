// A private clamd (Debian clamav-daemon's /usr/sbin/clamd, in the foreground): its
// own folder with a generated clamd.conf, a loopback TCP port and optionally a
// unix socket. Signatures: a DatabaseDirectory of real ones (the system's
// /var/lib/clamav, kept fresh by freshclam) or, when there are none, one demo
// signature written here for the EICAR test string, enough to show the pipeline
// working. The EICAR string is assembled at run time and never appears in one
// piece in the repository, so virus scanners on developers' machines do not
// flag the checkout.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { ping } from '../../lib/scanners/clamd-client'
import type { ClamdAddress } from '../../lib/scanners/clamd-protocol'
import { findBinary, freePort, killGroup, sleep } from './proc'

/** Debian package to install when clamd is missing. */
export const CLAMD_PACKAGE = 'clamav-daemon'
/** Where freshclam (Debian clamav-freshclam) keeps the official signatures. */
export const SYSTEM_SIGNATURES = '/var/lib/clamav'

/** The clamd binary: CLAMD_BIN, else `clamd` on PATH or in /usr/sbin; undefined = not installed. */
export function clamdBinary(): string | undefined {
  return findBinary('CLAMD_BIN', ['clamd'])
}

/** True when `dir` holds signature databases as freshclam writes them (.cvd, .cld, .cud). */
export function hasSignatures(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((n) => /\.(cvd|cld|cud)$/.test(n))
  } catch {
    return false
  }
}

/** The 68-byte EICAR anti-virus test file, joined from two halves. */
export function eicar(): Buffer {
  const first = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$'
  const second = 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
  return Buffer.from(first + second, 'latin1')
}

/** The name clamd reports for the demo signature (local databases get ".UNOFFICIAL"). */
export const EICAR_SIGNATURE = 'Gateway.Test.EICAR.UNOFFICIAL'

export interface PrivateClamdOptions {
  /** Holds clamd.conf, clamd.log, tmp/ and (demo signatures) db/. Created if missing. */
  dir: string
  /** The clamd binary (see clamdBinary()). */
  bin: string
  /** Loopback address for TCPAddr (default 127.0.0.1). */
  host?: string
  /** TCPSocket (default: a free port, chosen at start). */
  port?: number
  /** Also listen on dir/clamd.sock (the path must stay under 108 bytes). Default false. */
  localSocket?: boolean
  /** A DatabaseDirectory of real signatures; absent = the demo EICAR signature only. */
  signatures?: string
  /** clamd.conf StreamMaxLength: a longer message is not scanned (on_error decides). Default 30M (inbound accepts 25 MiB). */
  streamMaxLength?: string
}

export interface WaitOptions {
  /** Give up (and stop clamd) after this long. Default 20 s with demo signatures, 180 s with real ones. */
  timeoutMs?: number
  /** Aborting stops the start at once (Ctrl-C while waiting). */
  signal?: AbortSignal
  /** Called every 5 s while clamd is still loading, with the seconds waited. */
  onWaiting?: (seconds: number) => void
}

export class PrivateClamd {
  readonly dir: string
  readonly host: string
  port: number
  private child: ChildProcess | undefined
  private exited: Promise<void> | undefined
  private output: string[] = []

  constructor(private readonly opts: PrivateClamdOptions) {
    this.dir = opts.dir
    this.host = opts.host ?? '127.0.0.1'
    this.port = opts.port ?? 0
  }

  /** True when only the demo EICAR signature is loaded. */
  get demoSignatures(): boolean {
    return this.opts.signatures === undefined
  }

  get databaseDirectory(): string {
    return this.opts.signatures ?? path.join(this.dir, 'db')
  }

  get socketPath(): string {
    return path.join(this.dir, 'clamd.sock')
  }

  get tcp(): ClamdAddress {
    return { host: this.host, port: this.port }
  }

  get unix(): ClamdAddress {
    return { path: this.socketPath }
  }

  /** host:port, as gateway-antivirus.ini [main] server wants it. */
  get address(): string {
    return `${this.host}:${this.port}`
  }

  get logFile(): string {
    return path.join(this.dir, 'clamd.log')
  }

  /** What clamd wrote to its log and stdout/stderr, for failure messages. */
  log(): string {
    return `${fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-5000) : ''}${this.output.join('').slice(-3000)}`
  }

  async start(wait: WaitOptions = {}): Promise<this> {
    const timeoutMs = wait.timeoutMs ?? (this.demoSignatures ? 20_000 : 180_000)
    if (!this.port) this.port = await freePort(this.host)
    const confFile = this.writeConfig()

    this.output = []
    // Own process group: a terminal Ctrl-C reaches only our process, which stops clamd itself.
    const child = spawn(this.opts.bin, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.output.push(d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.output.push(d))
    child.once('error', (err) => this.output.push(`spawn failed: ${err.message}\n`))
    this.exited = new Promise((resolve) => child.once('close', () => resolve()))
    this.child = child
    process.once('exit', this.killOnExit)

    const started = Date.now()
    let reported = 0
    for (;;) {
      if (await this.answers()) return this
      const waited = Date.now() - started
      if (child.exitCode !== null || child.signalCode !== null || !child.pid || waited > timeoutMs || wait.signal?.aborted) {
        await this.stop()
        if (wait.signal?.aborted) throw new Error('clamd start aborted')
        throw new Error(`clamd did not start (config ${confFile}):\n${this.log()}`)
      }
      if (wait.onWaiting && Math.floor(waited / 5000) > reported) wait.onWaiting(5 * ++reported)
      await sleep(50)
    }
  }

  /** True when clamd answers PING with PONG (on the TCP port and, if configured, the unix socket). */
  async answers(): Promise<boolean> {
    try {
      for (const address of this.opts.localSocket ? [this.tcp, this.unix] : [this.tcp]) {
        await ping({ address, connectTimeoutMs: 1000, timeoutMs: 2000 })
      }
      return true
    } catch {
      return false
    }
  }

  /** Stops clamd (SIGTERM; SIGKILL if it lingers). Its folder stays. */
  async stop(): Promise<void> {
    const c = this.child
    this.child = undefined
    process.removeListener('exit', this.killOnExit)
    if (!c || !c.pid || c.exitCode !== null || c.signalCode !== null) return
    c.kill('SIGTERM')
    const timer = setTimeout(() => killGroup(c.pid!), 5000)
    await this.exited
    clearTimeout(timer)
  }

  private readonly killOnExit = () => {
    if (this.child?.pid) killGroup(this.child.pid)
  }

  private writeConfig(): string {
    const tmp = path.join(this.dir, 'tmp')
    fs.mkdirSync(tmp, { recursive: true })
    if (this.demoSignatures) {
      const db = path.join(this.dir, 'db')
      fs.mkdirSync(db, { recursive: true })
      // A body signature (.ndb: name:target type:offset:hex) matches the string anywhere in
      // anything clamd looks at, including decoded MIME parts and files unpacked from archives.
      fs.writeFileSync(path.join(db, 'gateway-test.ndb'), `Gateway.Test.EICAR:0:*:${eicar().toString('hex')}\n`)
    }
    const conf = [
      'Foreground yes',
      `DatabaseDirectory ${this.databaseDirectory}`,
      `TemporaryDirectory ${tmp}`,
      ...(this.opts.localSocket ? [`LocalSocket ${this.socketPath}`] : []),
      `TCPAddr ${this.host}`,
      `TCPSocket ${this.port}`,
      `LogFile ${this.logFile}`,
      'LogTime yes',
      `StreamMaxLength ${this.opts.streamMaxLength ?? '30M'}`,
      'MaxThreads 4',
      '',
    ].join('\n')
    const confFile = path.join(this.dir, 'clamd.conf')
    fs.writeFileSync(confFile, conf)
    return confFile
  }
}
