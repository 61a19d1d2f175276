// A redis-server for outage tests that keeps its data across a stop and a start on
// the same port (an RDB file in its own folder, written at stop), so a test can
// take Redis away from a running gateway and compare the numbers before and after.
// TestRedis (redis-server.ts) starts empty every time instead.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Redis from 'ioredis'

import { freePort } from '../../cli/launcher/proc'

export class PersistentTestRedis {
  private child: ChildProcess | undefined
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'persistent-redis-'))

  constructor(
    readonly host = '127.0.0.1',
    public port = 0,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  /** Starts it, loading what the last stop saved. */
  async start(): Promise<this> {
    if (!this.port) this.port = await freePort(this.host)
    const args = ['--bind', this.host, '--port', String(this.port), '--dir', this.dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no']
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      const failed = () => {
        clearTimeout(timer)
        reject(new Error(`redis-server did not start on ${this.url}`))
      }
      const timer = setTimeout(failed, 10_000)
      let out = ''
      child.on('error', failed)
      child.once('exit', failed)
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (!/Ready to accept connections/.test(out)) return
        out = ''
        clearTimeout(timer)
        child.off('exit', failed)
        child.off('error', failed)
        resolve()
      })
    })
    return this
  }

  /** Saves the data (SHUTDOWN SAVE) and waits for the process to end; the port is free afterwards. */
  async stop(): Promise<void> {
    const c = this.child
    this.child = undefined
    if (!c || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    const client = this.client()
    client.on('error', () => undefined) // refused reconnects once it is gone: expected
    await client.call('shutdown', 'save').catch(() => undefined) // the connection closes as it exits
    client.disconnect()
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    if (c.exitCode === null) {
      c.kill('SIGKILL')
      await exited
    }
  }

  /** Stops it and removes its folder (end of the test file). */
  async dispose(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }

  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 1 })
  }
}
