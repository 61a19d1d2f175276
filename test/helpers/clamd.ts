// A private, real clamd for tests (Debian clamav-daemon's /usr/sbin/clamd, run in
// the foreground): its own folder with a generated clamd.conf, one locally written
// signature for the EICAR test string, a unix socket and a free loopback TCP port.
// The EICAR string is assembled at run time and never appears in one piece in the
// repository, so virus scanners on developers' machines do not flag the checkout.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ping } from '../../lib/antivirus/clamd-client'
import type { ClamdAddress } from '../../lib/antivirus/clamd-protocol'
import { freePort } from './redis-server'

export const CLAMD_BIN = process.env.CLAMD_BIN ?? '/usr/sbin/clamd'

/** The 68-byte EICAR anti-virus test file, joined from two halves. */
export function eicar(): Buffer {
  const first = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$'
  const second = 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
  return Buffer.from(first + second, 'latin1')
}

/** The name clamd reports for our local signature (local databases get ".UNOFFICIAL"). */
export const EICAR_SIGNATURE = 'Gateway.Test.EICAR.UNOFFICIAL'

export interface TestClamdOptions {
  /** Loopback address for TCPAddr (default 127.0.0.1). */
  host?: string
  /** clamd.conf StreamMaxLength (default 1M: tests can exceed it cheaply). */
  streamMaxLength?: string
}

export class TestClamd {
  readonly dir: string
  readonly host: string
  port = 0
  private child: ChildProcess | undefined
  private output: string[] = []

  constructor(private readonly opts: TestClamdOptions = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-clamd-'))
    this.host = opts.host ?? '127.0.0.1'
  }

  /** Unix socket path (short: the limit is 107 bytes). */
  get socketPath(): string {
    return path.join(this.dir, 'clamd.sock')
  }

  get tcp(): ClamdAddress {
    return { host: this.host, port: this.port }
  }

  get unix(): ClamdAddress {
    return { path: this.socketPath }
  }

  /** What clamd wrote to its log and stdout/stderr, for failure messages. */
  log(): string {
    const file = path.join(this.dir, 'clamd.log')
    return `${fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''}${this.output.join('')}`
  }

  async start(): Promise<this> {
    if (!fs.existsSync(CLAMD_BIN)) throw new Error(`${CLAMD_BIN} is missing: apt-get install clamav-daemon`)
    if (!this.port) this.port = await freePort(this.host)
    const db = path.join(this.dir, 'db')
    const tmp = path.join(this.dir, 'tmp')
    fs.mkdirSync(db, { recursive: true })
    fs.mkdirSync(tmp, { recursive: true })
    // A body signature (.ndb: name:target type:offset:hex) matches the string anywhere in
    // anything clamd looks at, including decoded MIME parts and files unpacked from archives.
    fs.writeFileSync(path.join(db, 'gateway-test.ndb'), `Gateway.Test.EICAR:0:*:${eicar().toString('hex')}\n`)
    const conf = [
      'Foreground yes',
      `DatabaseDirectory ${db}`,
      `TemporaryDirectory ${tmp}`,
      `LocalSocket ${this.socketPath}`,
      `TCPAddr ${this.host}`,
      `TCPSocket ${this.port}`,
      `LogFile ${path.join(this.dir, 'clamd.log')}`,
      `StreamMaxLength ${this.opts.streamMaxLength ?? '1M'}`,
      'MaxThreads 4',
      '',
    ].join('\n')
    const confFile = path.join(this.dir, 'clamd.conf')
    fs.writeFileSync(confFile, conf)

    this.output = []
    const child = spawn(CLAMD_BIN, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.output.push(d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.output.push(d))
    child.once('error', (err) => this.output.push(`spawn failed: ${err.message}\n`))
    this.child = child

    const until = Date.now() + 20_000
    for (;;) {
      if (await this.answers()) return this
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > until) {
        await this.stop()
        throw new Error(`clamd did not start (config ${confFile}):\n${this.log()}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** True when clamd answers PING with PONG on both the TCP port and the unix socket. */
  async answers(): Promise<boolean> {
    try {
      for (const address of [this.tcp, this.unix]) await ping({ address, connectTimeoutMs: 1000, timeoutMs: 2000 })
      return true
    } catch {
      return false
    }
  }

  /** Stops clamd (SIGTERM; SIGKILL if it lingers). Its folder stays until dispose(). */
  async stop(): Promise<void> {
    const c = this.child
    this.child = undefined
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM')
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  async dispose(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
