// Finds a Redis for `gateway start`: REDIS_URL if set (it must work: the operator
// asked for it), else the configured URL if reachable, else a private
// redis-server under var/redis on a free loopback port, else standalone mode: no
// Redis at all. Standalone is what a newcomer without redis-server gets: mail
// flows, each instance keeps its counters (and the AUTH lockout and harvest
// defence their state) in its own memory, and the counters are written to the
// configured Redis once it answers.
//
// The private redis-server requires a password (random, kept owner-only in
// var/redis/redis.password, handed to redis-server in an owner-only config file
// and to the instances and commands in the URL): without one, any local user
// could delete lockout counters or block a sender by writing a harvest key.
//
// A Sentinel, Cluster or TLS URL (redis+sentinel://, redis+cluster://, rediss...)
// means a Redis shared by several gateway nodes or on another machine: when it
// does not answer at start, no private redis-server is started (this node's
// lockout, harvest and counter state would silently part from the other nodes');
// the gateway runs standalone and writes its counters there once it answers.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { freePort, killGroup } from './proc'
import { createRedisClient, redact } from '../../lib/redis/client'
import { describeTarget, parseRedisUrl, usesTls } from '../../lib/redis/connection-options'
import type { RedisFiles } from '../../lib/redis/redis-files'
import type { RedisMode } from '../../lib/config/run-state'

/** How long the private Redis gets to save and exit before it is killed. */
const STOP_TIMEOUT_MS = 10_000

export interface RedisHandle {
  mode: RedisMode
  /** The URL the instances get; in standalone mode the configured one, which they keep trying. */
  url: string
  /** The private redis-server's data folder. */
  dir?: string
  /** Standalone mode: why there is no Redis. */
  why?: string
  stop(): Promise<void>
}

const nothingToStop = async (): Promise<void> => {}

export async function ensureRedis(configuredUrl: string, privateDir: string, files: RedisFiles = {}): Promise<RedisHandle> {
  const fromEnv = process.env.REDIS_URL
  const url = fromEnv || configuredUrl
  if (await ping(url, 1500, files)) return { mode: 'external', url, stop: nothingToStop }
  if (fromEnv) throw new Error(`Redis is not reachable at REDIS_URL=${redact(fromEnv)}. Start it, fix REDIS_URL, or unset REDIS_URL to let the gateway run a private redis-server.`)
  if (parseRedisUrl(url).kind !== 'server' || usesTls(url)) {
    const why = `the ${describeTarget(url)} (config/gateway.ini [redis] url) does not answer; no private redis-server is started for a shared Sentinel, Cluster or TLS setup`
    return { mode: 'standalone', url, why, stop: nothingToStop }
  }
  const unreachable = `not reachable at ${redact(url)} (config/gateway.ini [redis] url)`
  if (spawnSync('redis-server', ['--version']).error) {
    return { mode: 'standalone', url, why: `${unreachable} and redis-server is not installed (apt-get install redis-server)`, stop: nothingToStop }
  }
  try {
    return await startPrivateRedis(privateDir)
  } catch (err) {
    return { mode: 'standalone', url, why: `${unreachable} and ${(err as Error).message}`, stop: nothingToStop }
  }
}

async function startPrivateRedis(dir: string): Promise<RedisHandle> {
  // Owner-only: the password file, the config file and the data (lockout and harvest counters) live here.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  fs.chmodSync(dir, 0o700) // created by an earlier version with a wider mode: narrow it
  const port = await freePort()
  const password = privateRedisPassword(dir)
  const url = `redis://:${password}@127.0.0.1:${port}`
  // The password goes in a config file, never on the command line (ps shows every user argv).
  const conf = path.join(dir, 'redis.conf')
  writePrivate(
    conf,
    [
      '# written by `gateway start` at every start: edits are lost',
      'bind 127.0.0.1',
      `port ${port}`,
      `dir ${JSON.stringify(dir)}`,
      'save "60 1"',
      'appendonly no',
      'logfile redis.log',
      `requirepass ${password}`,
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn('redis-server', [conf], { stdio: 'ignore', detached: true })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // however the launcher ends, its private Redis must not outlive it
  const killOnExit = () => {
    if (child.exitCode === null && child.pid) killGroup(child.pid)
  }
  process.once('exit', killOnExit)
  for (let i = 0; i < 50 && child.exitCode === null; i++) {
    if (await ping(url)) {
      return {
        mode: 'private',
        url,
        dir,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM') // redis saves and exits on SIGTERM
          const timer = setTimeout(killOnExit, STOP_TIMEOUT_MS)
          await exited
          clearTimeout(timer)
          process.removeListener('exit', killOnExit)
        },
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`the private redis-server did not start; see ${dir}/redis.log`)
}

/**
 * The private Redis's password: var/redis/redis.password, created on first start
 * (random, owner-only) and kept, so a restarted gateway (and the commands reading
 * the runtime file) keep working with the data Redis saved.
 */
function privateRedisPassword(dir: string): string {
  const file = path.join(dir, 'redis.password')
  try {
    const kept = fs.readFileSync(file, 'utf8').trim()
    if (/^[0-9a-f]{64}$/.test(kept)) {
      fs.chmodSync(file, 0o600)
      return kept
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  // hex: safe in a URL and in redis.conf without quoting
  const password = randomBytes(32).toString('hex')
  writePrivate(file, `${password}\n`)
  return password
}

/** Writes a 0600 file atomically (a leftover temporary file keeps its old mode otherwise: fchmod). */
function writePrivate(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.fchmodSync(fd, 0o600)
    fs.writeSync(fd, content)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}

/** Whether Redis (one server, the sentinels' master, or a cluster) answers PING now. */
export async function ping(url: string, timeoutMs = 1500, files: RedisFiles = {}): Promise<boolean> {
  const r = createRedisClient(url, {
    lazyConnect: true,
    connectTimeoutMs: timeoutMs,
    maxRetriesPerRequest: 0,
    reconnect: false,
    failFast: true,
    files,
  })
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
