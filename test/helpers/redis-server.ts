// A real redis-server for tests, on its own port, without persistence.

import { spawn, type ChildProcess } from 'node:child_process'

import Redis from 'ioredis'

import { freePort } from '../../cli/launcher/proc'

export class TestRedis {
  private child: ChildProcess | undefined

  constructor(
    readonly host = '127.0.0.1',
    public port = 0,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort(this.host)
    const child = spawn('redis-server', this.args(), { stdio: ['ignore', 'pipe', 'ignore'] })
    this.child = child
    // Ready when redis-server says so (no polling: this also runs in vitest's global
    // setup, outside any test worker); its exit or 10 s of silence is a failure.
    await new Promise<void>((resolve, reject) => {
      const failed = () => {
        clearTimeout(timer)
        reject(new Error(`redis-server did not start on ${this.url} (is it installed? apt-get install redis-server)`))
      }
      const timer = setTimeout(failed, 10_000)
      let out = ''
      let ready = false
      child.on('error', () => ready || failed()) // not installed
      child.once('exit', failed)
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        if (ready) return
        out += d
        if (!/Ready to accept connections/.test(out)) return
        ready = true
        clearTimeout(timer)
        child.off('exit', failed)
        resolve()
      })
    })
    return this
  }

  /** redis-server's arguments: no persistence (PersistentTestRedis adds a data folder). */
  protected args(): string[] {
    return ['--bind', this.host, '--port', String(this.port), '--save', '', '--appendonly', 'no']
  }

  /** The running redis-server (for subclasses that stop it their own way). */
  protected takeChild(): ChildProcess | undefined {
    const c = this.child
    this.child = undefined
    return c
  }

  async stop(): Promise<void> {
    const c = this.child
    this.child = undefined
    if (!c || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
  }

  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 1 })
  }
}

export { freePort }
