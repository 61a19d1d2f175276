// The receiving end of every benchmark variant: Postfix's smtp-sink, a C server
// that accepts mail as fast as the machine allows and stores nothing. Its running
// counter (-c) is read from stdout, so each delivered message has a timestamp and
// "delivered" is counted where the mail arrives, not where it was accepted.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'

export const SMTP_SINK_BIN = process.env.SMTP_SINK_BIN ?? '/usr/sbin/smtp-sink'

export class SmtpSink {
  /** Messages received (end of DATA answered) since start. */
  count = 0
  /** performance.now() of the last message received. */
  lastAt = 0
  private child: ChildProcess | undefined
  private waiters: { n: number; resolve: () => void }[] = []

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  get address(): string {
    return `${this.host}:${this.port}`
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('smtp-sink is not running')
    return this.child.pid
  }

  async start(): Promise<this> {
    if (!fs.existsSync(SMTP_SINK_BIN)) throw new Error(`${SMTP_SINK_BIN} not found: apt-get install postfix (see .ci/system-packages)`)
    // backlog 1000: 500 concurrent sessions must not be refused at connect
    const child = spawn(SMTP_SINK_BIN, ['-c', '-u', 'postfix', this.address, '1000'], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    let err = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      // "sess=N quit=N mesg=N\r", one line per event; only the last one in a chunk matters
      const all = [...d.matchAll(/mesg=(\d+)/g)]
      if (all.length === 0) return
      const n = Number(all[all.length - 1]![1])
      if (n <= this.count) return
      this.count = n
      this.lastAt = performance.now()
      this.waiters = this.waiters.filter((w) => (w.n <= n ? (w.resolve(), false) : true))
    })
    // smtp-sink prints nothing when ready: wait until it accepts a connection
    const until = Date.now() + 10_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`smtp-sink on ${this.address} exited: ${err}`)
      if (await canConnect(this.host, this.port)) return this
      if (Date.now() > until) throw new Error(`smtp-sink on ${this.address} not listening after 10 s: ${err}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** Resolves when `n` messages in total have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs: number): Promise<void> {
    if (this.count >= n) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`smtp-sink ${this.address}: ${this.count} of ${n} messages after ${timeoutMs} ms`)), timeoutMs)
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) })
    })
  }

  async stop(): Promise<void> {
    const c = this.child
    this.child = undefined
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port })
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}
