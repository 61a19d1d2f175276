// A real Redis Cluster on loopback for tests: three masters (no replicas), one per
// address of the test's block (.6, .7, .8, port 6379, bus 16379), joined with
// `redis-cli --cluster create`, as an operator would. The URL is known before start.
// With a RedisTls the nodes speak TLS only, to clients and on the cluster bus, and
// require client certificates; the URL is rediss+cluster://.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { Cluster } from 'ioredis'

import type { AddressBlock } from './net'
import type { RedisTls } from './redis-tls'

const PORT = 6379

export class TestRedisCluster {
  readonly hosts: readonly string[]
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-cluster-'))
  private readonly children: ChildProcess[] = []

  constructor(
    block: AddressBlock,
    private readonly tls?: RedisTls,
  ) {
    this.hosts = [block.ip(6), block.ip(7), block.ip(8)]
  }

  /** The gateway's [redis] url. */
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}+cluster://${this.hosts.map((h) => `${h}:${PORT}`).join(',')}`
  }

  async start(): Promise<this> {
    await Promise.all(this.hosts.map((h) => this.startNode(h)))
    const create = spawnSync('redis-cli', [...this.cliTls(), '--cluster', 'create', ...this.hosts.map((h) => `${h}:${PORT}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 })
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout}${create.stderr}`)
    // every node must agree before clients use it
    const until = Date.now() + 20_000
    for (const h of this.hosts) {
      for (;;) {
        const info = spawnSync('redis-cli', [...this.cliTls(), '-h', h, '-p', String(PORT), 'cluster', 'info'], { encoding: 'utf8' }).stdout
        if (/cluster_state:ok/.test(info)) break
        if (Date.now() > until) throw new Error(`cluster node ${h} is not ok:\n${info}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    return this
  }

  private async startNode(host: string): Promise<void> {
    const listen = this.tls ? [...this.tls.serverArgs(host, PORT), '--tls-cluster', 'yes'] : ['--port', String(PORT)]
    const args = ['--bind', host, ...listen, '--save', '', '--appendonly', 'no', '--dir', this.dir, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${host}.conf`, '--cluster-announce-ip', host]
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] })
    this.children.push(child)
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const failed = () => reject(new Error(`cluster node ${host} did not start:\n${out.slice(-2000)}`))
      const timer = setTimeout(failed, 10_000)
      child.once('exit', failed)
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (!/Ready to accept connections/.test(out)) return
        clearTimeout(timer)
        child.off('exit', failed)
        child.stdout!.removeAllListeners('data').resume()
        resolve()
      })
    })
  }

  /** A cluster client for reading what the gateway wrote. */
  client(): Cluster {
    const c = new Cluster(
      this.hosts.map((host) => ({ host, port: PORT })),
      this.tls ? { redisOptions: { tls: this.tls.clientOptions() } } : {},
    )
    c.on('error', () => undefined)
    return c
  }

  /** How many keys each node holds (DBSIZE per master), by address. */
  keysPerNode(): Record<string, number> {
    return Object.fromEntries(this.hosts.map((h) => [h, Number(spawnSync('redis-cli', [...this.cliTls(), '-h', h, '-p', String(PORT), 'dbsize'], { encoding: 'utf8' }).stdout.trim())]))
  }

  /** redis-cli's TLS arguments when the nodes speak TLS. */
  cliTls(): string[] {
    return this.tls ? this.tls.cliArgs() : []
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return
        const exited = new Promise((r) => c.once('exit', r))
        c.kill('SIGKILL')
        await exited
      }),
    )
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
