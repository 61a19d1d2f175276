// The comparison: every selected variant started once, warmed up, then measured
// round after round with the variants interleaved inside each round (round 1:
// v1..vN, round 2: v1..vN, ...), so a slow phase of the machine hits all of them
// alike. Each variant's server has its own loopback block, sink and Redis.

import type { BenchOptions, VariantId } from './options'
import { generatorFor, measure, measureLatency, type Latency, type Load, type Measurement } from './measure/measurement'
import { RoundTripCounter } from './measure/redis-round-trips'
import { makeVariant } from './variants'
import { Scanners } from './variants/scanners'
import type { Variant } from './variants/variant'
import { addressBlock } from '../test/helpers/net'

export interface RowSpec {
  /** e.g. "gateway-inbound", "gateway-inbound x10" or "gateway-inbound 10 rcpt" */
  key: string
  variantId: VariantId
  perSession: number
  /** Envelope recipients per message. */
  recipients: number
}

export interface RowResult extends RowSpec {
  title: string
  generator: Load['generator']
  measurements: Measurement[]
  latencies: Latency[]
  /** From a separate measurement under MONITOR (variants with Redis, one message per session). */
  redisRoundTripsPerMsg?: number
  /** The most frequent round-trip commands of that measurement. */
  redisRoundTripTop?: string
}

/** Variants that also get a 10-messages-per-session row and a 10-recipients-per-message row. */
const PER_SESSION_TWINS: ReadonlySet<VariantId> = new Set(['gateway-inbound', 'gateway-outbound', 'bare-haraka', 'bare-haraka-tls', 'bare-haraka-stock'])

export function rowSpecs(opts: BenchOptions, variants: readonly VariantId[]): RowSpec[] {
  const rows: RowSpec[] = []
  for (const id of variants) {
    rows.push({ key: id, variantId: id, perSession: 1, recipients: 1 })
    if (opts.perSessionRows && PER_SESSION_TWINS.has(id)) rows.push({ key: `${id} x10`, variantId: id, perSession: 10, recipients: 1 })
    if (opts.recipientRows && PER_SESSION_TWINS.has(id)) rows.push({ key: `${id} 10 rcpt`, variantId: id, perSession: 1, recipients: 10 })
  }
  return rows
}

export interface Started {
  variants: Map<VariantId, Variant>
  scanners: Scanners | undefined
  skipped: string[]
}

/** Starts the scanners (if variant 2 is on) and every variant; stops what started if one fails. */
export async function startVariants(opts: BenchOptions, log: (s: string) => void): Promise<Started> {
  const skipped: string[] = []
  let ids = opts.variants
  let scanners: Scanners | undefined
  if (ids.includes('gateway-inbound-scan')) {
    if (!Scanners.installed() && opts.skipMissingScanners) {
      skipped.push('gateway-inbound-scan (rspamd or clamd not installed)')
      ids = ids.filter((id) => id !== 'gateway-inbound-scan')
    } else {
      scanners = new Scanners(addressBlock().ip(4))
      log('starting rspamd and clamd (a cold rspamd start takes a while)')
      await scanners.start()
    }
  }
  const variants = new Map<VariantId, Variant>()
  try {
    for (const id of ids) {
      const v = makeVariant(id, scanners ? { scanners } : {})
      variants.set(id, v)
      log(`starting ${id}`)
      await v.start()
      log(`${id}: server processes ${v.serverPids().join(', ')}`)
    }
  } catch (err) {
    await stopVariants({ variants, scanners, skipped })
    throw err
  }
  return { variants, scanners, skipped }
}

export async function stopVariants(started: Started): Promise<void> {
  await Promise.allSettled([...started.variants.values()].map((v) => v.stop()))
  await started.scanners?.stop()
}

/** Warm-up, then the interleaved rounds. */
export async function compare(opts: BenchOptions, started: Started, log: (s: string) => void): Promise<RowResult[]> {
  const rows: RowResult[] = rowSpecs(opts, [...started.variants.keys()]).map((spec) => {
    const v = started.variants.get(spec.variantId)!
    return { ...spec, title: v.title, generator: generatorFor(v, spec.perSession), measurements: [], latencies: [] }
  })
  if (opts.warmup > 0) {
    for (const row of rows) {
      if (!isBaseRow(row)) continue
      const v = started.variants.get(row.variantId)!
      log(`warm-up ${row.key}: ${opts.warmup} messages`)
      await measure(v, { total: opts.warmup, sessions: opts.sessions, perSession: 1, recipients: 1, bytes: opts.bytes, generator: row.generator })
    }
  }
  for (let round = 1; round <= opts.rounds; round++) {
    for (const row of rows) {
      const v = started.variants.get(row.variantId)!
      const m = await measure(v, { total: opts.messages, sessions: opts.sessions, perSession: row.perSession, recipients: row.recipients, bytes: opts.bytes, generator: row.generator })
      row.measurements.push(m)
      let line = `round ${round} ${row.key}: ${m.msgPerSec.toFixed(0)} msg/s, ${m.cpuMsPerMsg.toFixed(2)} CPU ms/msg${Number.isFinite(m.mainThreadMsPerMsg) ? ` (main thread ${m.mainThreadMsPerMsg.toFixed(2)})` : ''}, peak ${m.peakRssMiB.toFixed(0)} MiB, delivered ${m.delivered}/${m.sent}`
      if (isBaseRow(row) && opts.latencyMessages > 0) {
        const lat = await measureLatency(v, opts.latencyMessages, opts.bytes)
        row.latencies.push(lat)
        line += `, latency ${lat.median.toFixed(1)}/${lat.p99.toFixed(1)} ms`
      }
      log(line)
    }
  }
  for (const row of rows) {
    const v = started.variants.get(row.variantId)!
    if (!v.redisUrl || !isBaseRow(row)) continue
    const total = Math.min(opts.messages, 1000)
    const counter = new RoundTripCounter(v.redisUrl)
    await counter.start()
    try {
      await measure(v, { total, sessions: opts.sessions, perSession: 1, recipients: 1, bytes: opts.bytes, generator: row.generator })
    } finally {
      counter.stop()
    }
    row.redisRoundTripsPerMsg = counter.roundTrips / total
    row.redisRoundTripTop = `${counter.top()} (for ${total} messages)`
    log(`${row.key}: ${row.redisRoundTripsPerMsg.toFixed(1)} Redis round trips per message (${counter.commands} commands seen by MONITOR for ${total} messages; round trips: ${counter.top()})`)
  }
  return rows
}

/** The variant's own row: one message of one recipient per session (warm-up, latency and Redis round trips are measured on it). */
function isBaseRow(row: RowSpec): boolean {
  return row.perSession === 1 && row.recipients === 1
}
