// Finds a Redis for `gateway start`: REDIS_URL if set (it must work: the operator
// asked for it), else the configured URL if reachable, else a private
// redis-server under var/redis on a free loopback port, else standalone mode: no
// Redis at all. Standalone is what a newcomer without redis-server gets: mail
// flows, each instance keeps its counters (and the AUTH lockout and harvest
// defence their state) in its own memory, and the counters are written to the
// configured Redis once it answers.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'

import Redis from 'ioredis'

import { freePort, killGroup } from './proc'
import { redact } from '../../lib/redis/client'
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

export async function ensureRedis(configuredUrl: string, privateDir: string): Promise<RedisHandle> {
  const fromEnv = process.env.REDIS_URL
  const url = fromEnv || configuredUrl
  if (await ping(url)) return { mode: 'external', url, stop: nothingToStop }
  if (fromEnv) throw new Error(`Redis is not reachable at REDIS_URL=${redact(fromEnv)}. Start it, fix REDIS_URL, or unset REDIS_URL to let the gateway run a private redis-server.`)
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
  fs.mkdirSync(dir, { recursive: true })
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  const child: ChildProcess = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '60 1', '--appendonly', 'no', '--logfile', 'redis.log'],
    { stdio: 'ignore', detached: true },
  )
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

export async function ping(url: string, timeoutMs = 1500): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
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
