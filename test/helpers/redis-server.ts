// A real redis-server for tests, on its own port, without persistence.

import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'

import Redis from 'ioredis'

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

  private async ping(): Promise<boolean> {
    const r = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    r.on('error', () => {})
    try {
      await r.connect()
      return (await r.ping()) === 'PONG'
    } catch {
      return false
    } finally {
      r.disconnect()
    }
  }
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}
