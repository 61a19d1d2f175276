// The benchmark harness (bench/) in a tiny mode, so a broken harness shows up in
// CI and not on the day someone wants numbers: every variant must deliver
// exactly the messages sent, and the report must carry a numeric row for each.
// No timing assertions: this machine's speed is not what is tested.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { expect, it } from 'vitest'

import { runBench } from '../bench/main'
import type { BenchOptions } from '../bench/options'

const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-')), 'BENCHMARKS.md')
const OPTIONS: BenchOptions = {
  rounds: 1,
  messages: 20,
  sessions: 2,
  bytes: 4096,
  latencyMessages: 3,
  warmup: 2,
  // 1, 3, 4 (both bare Haraka variants), bare Haraka with stock plugins and 6; no scanners, no Postfix relay
  variants: ['gateway-inbound', 'gateway-outbound', 'bare-haraka', 'bare-haraka-tls', 'bare-haraka-stock', 'ceiling'],
  perSessionRows: true,
  recipientRows: true,
  skipMissingScanners: true,
  scaling: false,
  ablation: true,
  leakMessages: 0,
  out,
}

/** The cells of the markdown table row whose first cell is `key`. */
function rowCells(markdown: string, key: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${key} |`))
  if (!line) throw new Error(`no row "${key}" in:\n${markdown}`)
  return line.split('|').slice(1, -1).map((c) => c.trim())
}

const leading = (cell: string) => Number(/^[\d.]+/.exec(cell)?.[0] ?? NaN)

it('runs every variant, delivers exactly what was sent, and writes a report with numbers', async () => {
  const report = await runBench(OPTIONS, () => {})
  try {
    const keys = report.rows.map((r) => r.key)
    expect(keys).toEqual([
      'gateway-inbound',
      'gateway-inbound x10',
      'gateway-inbound 10 rcpt',
      'gateway-outbound',
      'gateway-outbound x10',
      'gateway-outbound 10 rcpt',
      'bare-haraka',
      'bare-haraka x10',
      'bare-haraka 10 rcpt',
      'bare-haraka-tls',
      'bare-haraka-tls x10',
      'bare-haraka-tls 10 rcpt',
      'bare-haraka-stock',
      'bare-haraka-stock x10',
      'bare-haraka-stock 10 rcpt',
      'ceiling',
    ])
    for (const row of report.rows) {
      expect(row.measurements.map((m) => [row.key, m.sent, m.delivered])).toEqual([[row.key, 20, 20]])
      const m = row.measurements[0]!
      expect([row.key, m.msgPerSec > 0, m.peakRssMiB > 0, m.cpuMsPerMsg >= 0]).toEqual([row.key, true, true, true])
      // the main thread is read for one-process Haraka (gateway and bare), not for the sink
      expect([row.key, Number.isFinite(m.mainThreadMsPerMsg) && m.mainThreadMsPerMsg >= 0]).toEqual([row.key, row.key !== 'ceiling'])
      const base = row.perSession === 1 && row.recipients === 1
      if (base) expect([row.key, row.latencies[0]!.median > 0, row.latencies[0]!.p99 > 0]).toEqual([row.key, true, true])
      if (row.key.startsWith('gateway')) {
        // a gateway without Redis traffic per message would mean its Redis was not the one measured
        expect([row.key, (m.redisPerMsg ?? 0) > 0]).toEqual([row.key, true])
        if (base) expect([row.key, (row.redisRoundTripsPerMsg ?? 0) > 0]).toEqual([row.key, true])
      }
    }

    const markdown = fs.readFileSync(out, 'utf8')
    for (const heading of ['## Machine', '## Method', '## Results', '## Ratios']) expect(markdown).toContain(heading)
    expect(markdown).toMatch(/BENCH_ROUNDS=1 BENCH_MESSAGES=20 .* npm run bench/)
    for (const key of keys) {
      const cells = rowCells(markdown, key)
      expect([key, leading(cells[1]!) > 0, leading(cells[6]!) > 0, cells[9]]).toEqual([key, true, true, '20/20']) // msg/s, peak RSS, delivered
    }
    for (const ratio of ['gateway inbound / bare Haraka', 'gateway outbound / bare Haraka TLS+AUTH', 'gateway inbound / bare Haraka, 10 recipients/message', 'gateway inbound / bare Haraka with stock plugins']) expect(leading(rowCells(markdown, ratio)[1]!)).toBeGreaterThan(0)

    // what each protection costs: every copy without a group delivered everything, and has a row with numbers
    expect(report.ablation?.copies.map((c) => [c.label, c.measurements.map((m) => m.delivered)])).toEqual(
      report.ablation?.copies.map((c) => [c.label, [20]]),
    )
    expect(report.ablation?.copies).toHaveLength(7)
    expect(markdown).toContain('## What each protection costs')
    expect(rowCells(markdown, 'without all of the above')[5]).toBe('20/20')
    expect(leading(rowCells(markdown, 'without all of the above')[3]!)).toBeGreaterThan(0)
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true })
  }
}, 240_000)
