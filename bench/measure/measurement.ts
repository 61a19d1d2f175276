// One measurement: a load of `total` messages against a running variant, timed
// from the first connection until the sink received the last message, with the
// server's CPU time, peak memory and Redis commands over the same span.

import { runClientLoad } from '../load/smtp-client'
import { runSmtpSource } from '../load/smtp-source'
import type { Variant } from '../variants/variant'
import { mainThreadCpuMs, treeCpuMs } from './cpu'
import { commandCounts, commandsBetween } from './redis-commands'
import { PeakRss } from './rss'
import { quantile } from './stats'

export interface Load {
  total: number
  sessions: number
  perSession: number
  /** Envelope recipients per message (1 unless a recipients row). */
  recipients: number
  bytes: number
  /** smtp-source for plain one-message sessions; our client for AUTH or several messages per session. */
  generator: 'smtp-source' | 'client'
}

export interface Measurement {
  sent: number
  delivered: number
  msgPerSec: number
  cpuMsPerMsg: number
  /** CPU ms per message of the server's main thread (Haraka with one process), else NaN. */
  mainThreadMsPerMsg: number
  peakRssMiB: number
  redisPerMsg: number | undefined
  /** 4xx answers the client retried (data budget, connection limits). */
  retried: number
}

/** Longer than the gateway's Redis flush interval (1 s) plus the flush itself. */
const REDIS_SETTLE_MS = 1500

export function generatorFor(variant: Variant, perSession: number): Load['generator'] {
  return variant.auth || perSession > 1 ? 'client' : 'smtp-source'
}

export async function measure(variant: Variant, load: Load): Promise<Measurement> {
  const before = variant.sink.count
  const pids = variant.serverPids()
  const redis0 = variant.redisUrl ? await commandCounts(variant.redisUrl) : undefined
  const mainPid = variant.mainThreadPid?.()
  const main0 = mainPid === undefined ? NaN : mainThreadCpuMs(mainPid)
  const cpu0 = treeCpuMs(pids)
  const rss = new PeakRss(pids)
  const started = performance.now()
  let retried = 0
  try {
    const target = { ...variant.endpoint, from: variant.from, to: variant.to, total: load.total, sessions: load.sessions, bytes: load.bytes, recipients: load.recipients }
    if (load.generator === 'smtp-source') {
      await runSmtpSource(target)
    } else {
      const r = await runClientLoad({ ...target, perSession: load.perSession, ...(variant.auth ? { auth: variant.auth } : {}) })
      retried = r.retried
    }
    // generous: a slow machine under other load must not fail, only look slow
    await variant.sink.waitFor(before + load.total, Math.max(120_000, load.total * 100))
  } finally {
    rss.stop()
  }
  const finished = variant.sink.lastAt
  const cpu1 = treeCpuMs(pids)
  const main1 = mainPid === undefined ? NaN : mainThreadCpuMs(mainPid)
  // The gateway writes its records and counters to Redis in one MULTI per second
  // (lib/redis/shared-batch.ts): wait past the next flush so this load's writes
  // are counted here and not in the next measurement. This also gives a duplicate
  // delivery time to show up at the sink.
  await new Promise((r) => setTimeout(r, variant.redisUrl ? REDIS_SETTLE_MS : 300))
  const redis1 = variant.redisUrl ? await commandCounts(variant.redisUrl) : undefined
  const delivered = variant.sink.count - before
  return {
    sent: load.total,
    delivered,
    msgPerSec: (load.total * 1000) / (finished - started),
    cpuMsPerMsg: (cpu1 - cpu0) / load.total,
    mainThreadMsPerMsg: (main1 - main0) / load.total,
    peakRssMiB: rss.peak / 2 ** 20,
    redisPerMsg: redis0 && redis1 ? commandsBetween(redis0, redis1) / load.total : undefined,
    retried,
  }
}

export interface Latency {
  median: number
  p99: number
}

/** Client-side latency at light load: `count` messages one after another over one session (MAIL to the reply after DATA). */
export async function measureLatency(variant: Variant, count: number, bytes: number): Promise<Latency> {
  const before = variant.sink.count
  const r = await runClientLoad({ ...variant.endpoint, from: variant.from, to: variant.to, total: count, sessions: 1, perSession: count, bytes, ...(variant.auth ? { auth: variant.auth } : {}) })
  await variant.sink.waitFor(before + count, 120_000) // delivered before the next measurement starts
  return { median: quantile(r.latencies, 0.5), p99: quantile(r.latencies, 0.99) }
}
