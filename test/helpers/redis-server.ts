// A real redis-server for tests, on its own port, without persistence.

import { spawn, type ChildProcess } from 'node:child_process'

import Redis from 'ioredis'

import { ping } from '../../cli/redis-launcher'
import { freePort } from '../../lib/engines/proc'

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
    const child = spawn('redis-server', ['--bind', this.host, '--port', String(this.port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    child.once('error', () => {})
    this.child = child
    const until = Date.now() + 10_000
    while (!(await this.ping())) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`redis-server did not start on ${this.url} (is it installed? apt-get install redis-server)`)
      await new Promise((r) => setTimeout(r, 50))
    }
    return this
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

  private ping(): Promise<boolean> {
    return ping(this.url)
  }
}

export { freePort }
