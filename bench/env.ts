// The environment of the gateway benchmarks: a real redis-server, a MailSink as
// the internal mail server and the real inbound Haraka instance, started once per
// bench file and shared by all of its benches.
//
// `vitest bench` does not run beforeAll/afterAll (vitest-dev/vitest#5075), and the
// global setup's inject() is not relied on either. So:
// - every bench's tinybench `setup` hook (awaited) calls benchEnv(), which starts
//   the environment on first use and waits until earlier mail is delivered;
// - the last bench calls releaseBenchEnv() from its `teardown` hook, which
//   tinybench calls without awaiting: it signals every process at once
//   (synchronously) and finishes in the background; the worker is held until that
//   is done where vitest allows it, and a process 'exit' hook kills what is left.

import fs from 'node:fs'

import { TestGateway } from '../test/helpers/gateway'
import { MailSink } from '../test/helpers/mail-sink'
import { addressBlock } from '../test/helpers/net'
import { TestRedis } from '../test/helpers/redis-server'

export interface BenchEnv {
  redis: TestRedis
  internal: MailSink
  gw: TestGateway
  /** Messages the inbound instance answered 250 to after DATA (each to one recipient). */
  accepted: number
}

/** How long Haraka gets for its graceful shutdown before it is killed. */
const HARAKA_STOP_MS = 7_000

let starting: Promise<BenchEnv> | undefined
let current: BenchEnv | undefined
let stopping: Promise<void> | undefined

/** The running environment, started on first call. */
export function benchEnv(): Promise<BenchEnv> {
  if (stopping) throw new Error('the bench environment was already stopped')
  starting ??= start()
  return starting
}

/**
 * benchEnv(), after every message accepted so far reached the internal server, so
 * one bench's delivery backlog does not load the next bench.
 */
export async function quietBenchEnv(timeoutMs = 60_000): Promise<BenchEnv> {
  const env = await benchEnv()
  await env.internal.waitFor(env.accepted, timeoutMs)
  return env
}

async function start(): Promise<BenchEnv> {
  const redis = await new TestRedis().start()
  const block = addressBlock()
  const internal = new MailSink({ host: block.ip(3), port: 2526 })
  const gw = new TestGateway({ block, redisUrl: redis.url, internalHosts: [internal.address], instances: ['inbound'] })
  current = { redis, internal, gw, accepted: 0 }
  process.once('exit', killLeftovers)
  // Where the worker offers it (vitest's internal worker state), make it wait for
  // the shutdown before it is terminated. Optional: without it the 'exit' hook and
  // the synchronous signalling in stop() still leave nothing running.
  const worker = (globalThis as { __vitest_worker__?: { onCleanup?: (cb: () => Promise<void>) => void } }).__vitest_worker__
  worker?.onCleanup?.(() => releaseBenchEnv())
  await internal.start()
  await gw.start()
  return current
}

/** Stops everything (idempotent). Signals all processes before its first await. */
export function releaseBenchEnv(): Promise<void> {
  stopping ??= stop()
  return stopping
}

async function stop(): Promise<void> {
  const env = current
  if (!env) return
  // All three calls signal (SIGINT to Haraka, SIGKILL to redis, close the listener)
  // synchronously, before their first await.
  const gwStopped = env.gw.stop()
  // Haraka's graceful shutdown takes seconds; vitest waits for worker cleanup only
  // so long (teardownTimeout, 10 s by default), TestGateway's own SIGKILL comes at 15 s.
  const hardStop = setTimeout(() => killHaraka(env), HARAKA_STOP_MS)
  const clear = () => clearTimeout(hardStop)
  gwStopped.then(clear, clear)
  const results = await Promise.allSettled([gwStopped, env.internal.stop(), env.redis.stop()])
  current = undefined
  process.off('exit', killLeftovers)
  for (const r of results) if (r.status === 'rejected') console.error('bench environment shutdown:', r.reason)
}

/** Last resort on process exit: nothing asynchronous can run any more. */
function killLeftovers(): void {
  const env = current
  if (!env) return
  killHaraka(env)
  void env.redis.stop() // SIGKILLs synchronously
  fs.rmSync(env.gw.root, { recursive: true, force: true })
}

function killHaraka(env: BenchEnv): void {
  if (!env.gw.isRunning('inbound')) return
  try {
    process.kill(env.gw.pid('inbound'), 'SIGKILL')
  } catch {
    // gone meanwhile
  }
}
