// A redis-server for outage tests that keeps its data across a stop and a start on
// the same port (an RDB file in its own folder, written at stop), so a test can
// take Redis away from a running gateway and compare the numbers before and after.
// TestRedis (redis-server.ts) starts empty every time instead.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { TestRedis } from './redis-server'

export class PersistentTestRedis extends TestRedis {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'persistent-redis-'))

  /** Loads at start what the last stop saved. */
  protected override args(): string[] {
    return [...super.args(), '--dir', this.dir, '--dbfilename', 'dump.rdb']
  }

  /** Saves the data (SHUTDOWN SAVE) and waits for the process to end; the port is free afterwards. */
  override async stop(): Promise<void> {
    const c = this.takeChild()
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
}
