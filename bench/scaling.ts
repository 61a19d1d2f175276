// The scaling section (BENCH_SCALING=1): the gateway's inbound instance (with
// bare Haraka and Postfix beside it where they are selected) under more
// sessions, larger messages, a long run for memory growth, and Haraka's
// cluster mode (smtp.ini nodes). One measurement per cell: a shape, not a
// statistic. Our client drives it, since it retries 4xx answers (the data
// budget refuses DATA beyond 20 transfers at once) and counts them.

import type { BenchOptions, VariantId } from './options'
import { CPUS } from './options'
import { measure, type Load } from './measure/measurement'
import { currentRss } from './measure/rss'
import { makeVariant } from './variants'
import type { Variant } from './variants/variant'

export interface ScalingSection {
  title: string
  header: string[]
  rows: string[][]
}

export interface ScalingResult {
  note: string
  sections: ScalingSection[]
}

const SIZES: [string, number][] = [
  ['4 KiB', 4096],
  ['100 KiB', 100 * 1024],
  ['10 MiB', 10 * 1024 * 1024],
]
const CONCURRENCY = [1, 20, 100, 500]
const COMPARED: VariantId[] = ['gateway-inbound', 'bare-haraka', 'postfix']

const f0 = (v: number) => v.toFixed(0)
const f2 = (v: number) => v.toFixed(2)

/**
 * One cell; a failure (a server that stops answering under 500 sessions) becomes
 * the cell's text instead of ending the run. Messages of a failed cell may still
 * arrive later and show up as delivered > sent in the next cell of that variant.
 */
async function attempt<T>(run: () => Promise<T>, log: (s: string) => void): Promise<T | string> {
  try {
    return await run()
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    log(`scaling cell failed: ${why}`)
    return `failed: ${why.replace(/\|/g, '/').slice(0, 120)}`
  }
}

export async function scaling(opts: BenchOptions, running: Map<VariantId, Variant>, log: (s: string) => void): Promise<ScalingResult> {
  const sections: ScalingSection[] = []
  const compared = COMPARED.filter((id) => running.has(id)).map((id) => running.get(id)!)
  const load = (total: number, sessions: number, bytes: number): Load => ({ total, sessions, perSession: 1, recipients: 1, bytes, generator: 'client' })

  const concurrency: ScalingSection = { title: 'Concurrent sessions', header: ['variant', 'sessions', 'msg/s', 'CPU ms/msg', 'peak RSS MiB', '4xx retried', 'delivered/sent'], rows: [] }
  for (const n of CONCURRENCY) {
    for (const v of compared) {
      const m = await attempt(() => measure(v, load(Math.max(opts.messages, n), n, opts.bytes)), log)
      if (typeof m === 'string') {
        concurrency.rows.push([v.id, String(n), m, '', '', '', ''])
        continue
      }
      log(`scaling sessions=${n} ${v.id}: ${f0(m.msgPerSec)} msg/s`)
      concurrency.rows.push([v.id, String(n), f0(m.msgPerSec), f2(m.cpuMsPerMsg), f0(m.peakRssMiB), String(m.retried), `${m.delivered}/${m.sent}`])
    }
  }
  sections.push(concurrency)

  const sizes: ScalingSection = { title: `Message size (${opts.sessions} sessions)`, header: ['variant', 'size', 'messages', 'msg/s', 'MiB/s', 'CPU ms/msg', 'peak RSS MiB', '4xx retried', 'delivered/sent'], rows: [] }
  for (const [label, bytes] of SIZES) {
    // fewer large messages: the same order of bytes per cell
    const total = Math.max(opts.sessions, Math.round((opts.messages * 4096) / bytes), 20)
    for (const v of compared) {
      const m = await attempt(() => measure(v, load(total, opts.sessions, bytes)), log)
      if (typeof m === 'string') {
        sizes.rows.push([v.id, label, String(total), m, '', '', '', '', ''])
        continue
      }
      log(`scaling size=${label} ${v.id}: ${f0(m.msgPerSec)} msg/s`)
      sizes.rows.push([v.id, label, String(total), f0(m.msgPerSec), f2((m.msgPerSec * bytes) / 2 ** 20), f2(m.cpuMsPerMsg), f0(m.peakRssMiB), String(m.retried), `${m.delivered}/${m.sent}`])
    }
  }
  sections.push(sizes)

  const inbound = running.get('gateway-inbound')
  if (inbound) {
    const leak: ScalingSection = { title: `Memory over ${opts.leakMessages} messages (gateway-inbound)`, header: ['messages so far', 'RSS MiB after', 'msg/s of the chunk'], rows: [] }
    const chunk = Math.max(1, Math.ceil(opts.leakMessages / 10))
    leak.rows.push(['0', f0(currentRss(inbound.serverPids()) / 2 ** 20), '–'])
    for (let done = 0; done < opts.leakMessages; ) {
      const n = Math.min(chunk, opts.leakMessages - done)
      const m = await measure(inbound, load(n, opts.sessions, opts.bytes))
      done += n
      // let timers and the collector settle before reading
      await new Promise((r) => setTimeout(r, 1000))
      leak.rows.push([String(done), f0(currentRss(inbound.serverPids()) / 2 ** 20), f0(m.msgPerSec)])
      log(`scaling leak: ${done} messages, RSS ${leak.rows.at(-1)![1]} MiB`)
    }
    sections.push(leak)
  }

  const nodes: ScalingSection = { title: 'Haraka cluster workers (smtp.ini [main] nodes), gateway-inbound', header: ['nodes', 'msg/s', 'CPU ms/msg', 'peak RSS MiB', '4xx retried', 'delivered/sent'], rows: [] }
  for (const n of [...new Set([1, 2, CPUS])]) {
    const v = makeVariant('gateway-inbound', { nodes: n })
    log(`scaling nodes=${n}: starting a gateway-inbound`)
    try {
      await v.start()
      // every worker listening before the load (the master hands out connections round-robin)
      await new Promise((r) => setTimeout(r, 3000))
      await measure(v, load(Math.min(opts.warmup || 100, 300), opts.sessions, opts.bytes))
      const m = await measure(v, load(opts.messages, opts.sessions, opts.bytes))
      log(`scaling nodes=${n}: ${f0(m.msgPerSec)} msg/s`)
      nodes.rows.push([String(n), f0(m.msgPerSec), f2(m.cpuMsPerMsg), f0(m.peakRssMiB), String(m.retried), `${m.delivered}/${m.sent}`])
    } finally {
      await v.stop()
    }
  }
  sections.push(nodes)

  return {
    note: `One measurement per cell, driven by our Node client (it retries 4xx answers, counted as "4xx retried"), ${opts.bytes}-byte messages unless stated; nodes=0 (one process) unless stated. The machine has ${CPUS} logical cores, shared with the load generator.`,
    sections,
  }
}
