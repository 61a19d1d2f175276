// A real Sentinel setup on loopback for tests: a Redis master, one replica and one
// sentinel (quorum 1), all plain redis-server processes (`redis-server CONF
// --sentinel` is redis-sentinel; no extra package). Data and sentinels have their
// own passwords, as in production. The sentinel declares the master down after
// 1 s, so a killed master is replaced within a few seconds. Addresses are fixed
// in the test's loopback block (master .6, replica .7, sentinel .8), so the URL is
// known before anything starts. With a RedisTls, every one of them speaks TLS only
// and requires client certificates (replication and the sentinel's own connections
// included), and the URL is rediss+sentinel://.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Redis from 'ioredis'

import type { AddressBlock } from './net'
import type { RedisTls, RedisTlsOptions } from './redis-tls'

interface Proc {
  child: ChildProcess
  host: string
}

const PORT = 6379
const SENTINEL_PORT = 26379

/** Starts redis-server with `args` and resolves once its output matches `ready`. */
async function startProcess(args: string[], ready: RegExp, what: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const failed = () => {
      clearTimeout(timer)
      reject(new Error(`${what} did not start (redis-server ${args.join(' ')}):\n${out.slice(-2000)}`))
    }
    const timer = setTimeout(failed, 10_000)
    child.on('error', failed)
    child.once('exit', failed)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (!ready.test(out)) return
      clearTimeout(timer)
      child.off('exit', failed)
      child.stdout!.removeAllListeners('data').resume()
      resolve()
    })
  })
  return child
}

async function stopProcess(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return
  const exited = new Promise((r) => p.child.once('exit', r))
  p.child.kill('SIGKILL')
  await exited
}

export class TestSentinelRedis {
  readonly masterName = 'mymaster'
  /** The data password (master and replica), carried in the gateway's URL. */
  readonly password = `data-${Math.random().toString(36).slice(2)}-pw`
  /** The sentinel's own password, handed to the gateway in a file. */
  readonly sentinelPassword = `sentinel-${Math.random().toString(36).slice(2)}-pw`
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-sentinel-'))
  /** sentinel_password_file for the gateway (GATEWAY_REDIS_SENTINEL_PASSWORD_FILE). */
  readonly sentinelPasswordFile = path.join(this.dir, 'sentinel.password')
  private readonly servers = new Map<string, Proc>()
  private sentinel: Proc | undefined
  /** The two data servers' addresses (which one is master changes on failover). */
  readonly hosts: readonly [string, string]
  readonly sentinelHost: string

  constructor(
    block: AddressBlock,
    private readonly tls?: RedisTls,
  ) {
    this.hosts = [block.ip(6), block.ip(7)]
    this.sentinelHost = block.ip(8)
  }

  /** The gateway's [redis] url: the sentinel, the master's name, the data password. */
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}+sentinel://:${this.password}@${this.sentinelHost}:${SENTINEL_PORT}/${this.masterName}`
  }

  async start(): Promise<this> {
    fs.writeFileSync(this.sentinelPasswordFile, `${this.sentinelPassword}\n`, { mode: 0o600 })
    const [master, replica] = this.hosts
    await this.startServer(master, [])
    await this.startServer(replica, ['--replicaof', master, String(PORT)])
    await this.waitFor(async () => /master_link_status:up/.test(await this.info(replica)), 'the replica to sync')
    const conf = path.join(this.dir, 'sentinel.conf')
    fs.writeFileSync(
      conf,
      [
        ...(this.tls ? this.tls.serverSettings(this.sentinelHost, SENTINEL_PORT).map(([k, v]) => `${k} ${v}`) : [`port ${SENTINEL_PORT}`]),
        `bind ${this.sentinelHost}`,
        `dir ${this.dir}`,
        `requirepass ${this.sentinelPassword}`,
        `sentinel monitor ${this.masterName} ${master} ${PORT} 1`,
        `sentinel auth-pass ${this.masterName} ${this.password}`,
        `sentinel down-after-milliseconds ${this.masterName} 1000`,
        `sentinel failover-timeout ${this.masterName} 3000`,
        '',
      ].join('\n'),
    )
    this.sentinel = { child: await startProcess([conf, '--sentinel'], /\+monitor master/, 'redis-sentinel'), host: this.sentinelHost }
    // failover needs the sentinel to know the replica (it asks the master for them)
    await this.waitFor(async () => ((await this.sentinelCall('SENTINEL', 'REPLICAS', this.masterName)) as unknown[]).length === 1, 'the sentinel to see the replica')
    return this
  }

  private async startServer(host: string, extra: string[]): Promise<void> {
    // replica-announce-ip: the sentinel learns the replica's address from the master
    const listen = this.tls ? this.tls.serverArgs(host, PORT) : ['--port', String(PORT)]
    const args = ['--bind', host, ...listen, '--save', '', '--appendonly', 'no', '--dir', this.dir, '--requirepass', this.password, '--masterauth', this.password, '--replica-announce-ip', host, ...extra]
    this.servers.set(host, { child: await startProcess(args, /Ready to accept connections/, 'redis-server'), host })
  }

  /** A short-lived command to the sentinel. */
  async sentinelCall(...args: string[]): Promise<unknown> {
    const r = new Redis({ host: this.sentinelHost, port: SENTINEL_PORT, password: this.sentinelPassword, maxRetriesPerRequest: 0, lazyConnect: true, ...this.clientTls() })
    r.on('error', () => undefined)
    try {
      await r.connect()
      return await r.call(args[0]!, ...args.slice(1))
    } finally {
      r.disconnect()
    }
  }

  /** ioredis options of the test's own clients: TLS with a client certificate when the servers require it. */
  private clientTls(): { tls?: RedisTlsOptions } {
    return this.tls ? { tls: this.tls.clientOptions() } : {}
  }

  /** The address of the master the sentinel names now. */
  async masterHost(): Promise<string> {
    const addr = (await this.sentinelCall('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName)) as [string, string]
    return addr[0]
  }

  /** A client of one server, no Sentinel involved: to read what landed where. */
  serverClient(host: string): Redis {
    const r = new Redis({ host, port: PORT, password: this.password, maxRetriesPerRequest: 1, ...this.clientTls() })
    r.on('error', () => undefined)
    return r
  }

  /** INFO replication of one server. */
  async info(host: string): Promise<string> {
    const c = this.serverClient(host)
    try {
      return await c.info('replication')
    } finally {
      c.disconnect()
    }
  }

  /** Kills the current master with SIGKILL (no save, no goodbye); returns its address. */
  async killMaster(): Promise<string> {
    const host = await this.masterHost()
    await stopProcess(this.servers.get(host))
    return host
  }

  /** Waits until the sentinel names another master than `old` and that server answers as master; its address. */
  async waitForNewMaster(old: string, timeoutMs = 30_000): Promise<string> {
    let host = old
    await this.waitFor(
      async () => {
        host = await this.masterHost()
        return host !== old && /role:master/.test(await this.info(host))
      },
      `a new master after ${old}`,
      timeoutMs,
    )
    return host
  }

  /**
   * Asks the sentinel for a failover and waits until the old master is demoted (a
   * replica: it refuses writes from then on); returns the old master's address.
   * SENTINEL FAILOVER answers before anything happens: until the demotion, the old
   * master still accepts writes that its resync with the new master then discards.
   */
  async failover(): Promise<string> {
    const old = await this.masterHost()
    await this.sentinelCall('SENTINEL', 'FAILOVER', this.masterName)
    await this.waitFor(async () => /role:slave/.test(await this.info(old)), `${old} to be demoted`, 30_000)
    return old
  }

  /** Waits until `host` is a replica in sync with the master (e.g. a demoted master), so it can be promoted again. */
  async waitForReplica(host: string, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(async () => /role:slave[\s\S]*master_link_status:up/.test(await this.info(host)), `${host} to be a replica in sync`, timeoutMs)
  }

  private async waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs
    for (;;) {
      if (await check().catch(() => false)) return
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  async stop(): Promise<void> {
    await stopProcess(this.sentinel)
    await Promise.all([...this.servers.values()].map(stopProcess))
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
