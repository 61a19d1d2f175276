// Runs the whole benchmark: start, compare, (scale), stop, report. Also used by
// test/bench-smoke.test.ts with a tiny configuration.

import fs from 'node:fs'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { ablation } from './ablation'
import { compare, startVariants, stopVariants } from './harness'
import { machineFacts } from './machine'
import { benchOptions, type BenchOptions } from './options'
import { ablationMarkdown, markdown, ratiosTable, resultsTable, scalingMarkdown, type Report } from './report'
import { scaling } from './scaling'

/** The command that reproduces a run with these options. */
function rerunCommand(o: BenchOptions): string {
  const env = [
    `BENCH_ROUNDS=${o.rounds}`,
    `BENCH_MESSAGES=${o.messages}`,
    `BENCH_SESSIONS=${o.sessions}`,
    `BENCH_BYTES=${o.bytes}`,
    `BENCH_VARIANTS=${o.variants.join(',')}`,
    ...(o.perSessionRows ? [] : ['BENCH_PER_SESSION_ROWS=0']),
    ...(o.recipientRows ? [] : ['BENCH_RECIPIENT_ROWS=0']),
    ...(o.scaling ? ['BENCH_SCALING=1', `BENCH_LEAK_MESSAGES=${o.leakMessages}`] : []),
    ...(o.ablation ? ['BENCH_ABLATION=1'] : []),
  ]
  return `${env.join(' ')} npm run bench`
}

export async function runBench(opts: BenchOptions = benchOptions(GATEWAY_ROOT), log: (s: string) => void = (s) => console.log(`[bench] ${s}`)): Promise<Report> {
  const started = await startVariants(opts, log)
  let report: Report
  try {
    const rows = await compare(opts, started, log)
    const scaled = opts.scaling ? await scaling(opts, started.variants, log) : undefined
    const inbound = started.variants.get('gateway-inbound')
    if (opts.ablation && !inbound) throw new Error('BENCH_ABLATION=1 needs the gateway-inbound variant in BENCH_VARIANTS')
    const ablated = opts.ablation && inbound ? await ablation(opts, inbound, log) : undefined
    report = { opts, machine: machineFacts(), rows, scaling: scaled, ablation: ablated, skipped: started.skipped, command: rerunCommand(opts), date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC' }
  } finally {
    await stopVariants(started)
  }
  console.log(`\n${resultsTable(report.rows)}\n\n${ratiosTable(report.rows) ?? ''}\n${report.scaling ? `\n${scalingMarkdown(report.scaling)}` : ''}${report.ablation ? `\n${ablationMarkdown(report.ablation)}` : ''}`)
  if (opts.out) {
    fs.writeFileSync(opts.out, markdown(report))
    log(`written ${opts.out}`)
  }
  return report
}
