// BENCHMARKS.md and the console table: medians with their spread (min–max over
// rounds), and the gateway's cost against bare Haraka and Postfix as ratios
// computed round by round (both sides of a ratio ran in the same round).

import type { AblationResult } from './ablation'
import type { RowResult } from './harness'
import type { Measurement } from './measure/measurement'
import type { BenchOptions } from './options'
import type { ScalingResult } from './scaling'
import { spread, type Spread } from './measure/stats'

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–')
const cell = (s: Spread, digits: number) => (Number.isFinite(s.median) ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : '–')

export function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

export function resultsTable(rows: readonly RowResult[]): string {
  return table(
    ['variant', 'msg/s', 'latency median ms', 'latency p99 ms', 'CPU ms/msg', 'main thread ms/msg', 'peak RSS MiB', 'Redis cmds/msg', 'Redis round trips/msg', 'delivered/sent', 'load'],
    rows.map((r) => {
      const ms = r.measurements
      const delivered = ms.reduce((s, m) => s + m.delivered, 0)
      const sent = ms.reduce((s, m) => s + m.sent, 0)
      const redis = ms.map((m) => m.redisPerMsg).filter((v): v is number => v !== undefined)
      return [
        r.key,
        cell(spread(ms.map((m) => m.msgPerSec)), 0),
        cell(spread(r.latencies.map((l) => l.median)), 1),
        cell(spread(r.latencies.map((l) => l.p99)), 1),
        cell(spread(ms.map((m) => m.cpuMsPerMsg)), 2),
        cell(spread(ms.map((m) => m.mainThreadMsPerMsg)), 2),
        cell(spread(ms.map((m) => m.peakRssMiB)), 0),
        redis.length ? cell(spread(redis), 1) : '–',
        r.redisRoundTripsPerMsg === undefined ? '–' : fmt(r.redisRoundTripsPerMsg, 1),
        `${delivered}/${sent}`,
        `${r.generator}, ${r.perSession}/session${r.recipients > 1 ? `, ${r.recipients} rcpt/msg` : ''}`,
      ]
    }),
  )
}

/** [numerator row, denominator row, what it says] */
const RATIOS: [string, string, string][] = [
  ['gateway-inbound', 'bare-haraka', 'gateway inbound / bare Haraka'],
  ['gateway-inbound x10', 'bare-haraka x10', 'gateway inbound / bare Haraka, 10 msgs/session'],
  ['gateway-inbound 10 rcpt', 'bare-haraka 10 rcpt', 'gateway inbound / bare Haraka, 10 recipients/message'],
  ['gateway-inbound', 'bare-haraka-stock', 'gateway inbound / bare Haraka with stock plugins'],
  ['gateway-inbound x10', 'bare-haraka-stock x10', 'gateway inbound / bare Haraka with stock plugins, 10 msgs/session'],
  ['gateway-inbound 10 rcpt', 'bare-haraka-stock 10 rcpt', 'gateway inbound / bare Haraka with stock plugins, 10 recipients/message'],
  ['bare-haraka-stock', 'bare-haraka', 'bare Haraka with stock plugins / without'],
  ['gateway-inbound-scan', 'gateway-inbound', 'inbound with scanners / without'],
  ['gateway-outbound', 'bare-haraka-tls', 'gateway outbound / bare Haraka TLS+AUTH'],
  ['gateway-outbound x10', 'bare-haraka-tls x10', 'gateway outbound / bare Haraka TLS+AUTH, 10 msgs/session'],
  ['gateway-outbound 10 rcpt', 'bare-haraka-tls 10 rcpt', 'gateway outbound / bare Haraka TLS+AUTH, 10 recipients/message'],
  ['gateway-inbound', 'postfix', 'gateway inbound / Postfix'],
  ['bare-haraka', 'postfix', 'bare Haraka / Postfix'],
  ['postfix', 'ceiling', 'Postfix / machine ceiling'],
]

export function ratiosTable(rows: readonly RowResult[]): string | undefined {
  const byKey = new Map(rows.map((r) => [r.key, r]))
  const out: string[][] = []
  for (const [a, b, label] of RATIOS) {
    const ra = byKey.get(a)
    const rb = byKey.get(b)
    if (!ra || !rb) continue
    const per = (f: (m: RowResult['measurements'][number]) => number) => ra.measurements.map((m, i) => f(m) / f(rb.measurements[i]!))
    out.push([label, cell(spread(per((m) => m.msgPerSec)), 2), cell(spread(per((m) => m.cpuMsPerMsg)), 2), cell(spread(per((m) => m.mainThreadMsPerMsg)), 2)])
  }
  return out.length ? table(['ratio (same round)', 'throughput', 'CPU per message', 'main thread CPU per message'], out) : undefined
}

export interface Report {
  opts: BenchOptions
  machine: [string, string][]
  rows: RowResult[]
  scaling: ScalingResult | undefined
  ablation?: AblationResult | undefined
  skipped: string[]
  command: string
  date: string
}

export function markdown(r: Report): string {
  const o = r.opts
  const ratios = ratiosTable(r.rows)
  const parts = [
    '# Benchmarks',
    '',
    `Measured ${r.date} by \`bench/\` (issue 12). Regenerate with:`,
    '',
    '```sh',
    r.command,
    '```',
    '',
    '## Machine',
    '',
    table(['', ''], r.machine),
    '',
    '## Method',
    '',
    `- ${o.rounds} round${o.rounds === 1 ? '' : 's'}; in each round every variant is measured once, in the same order (interleaved), after a warm-up of ${o.warmup} messages per variant. Cells show the median over rounds and the spread (min–max).`,
    `- Each measurement: ${o.messages} messages of ${o.bytes} bytes from ${o.sessions} parallel sessions. Plain SMTP with one message per session is driven by Postfix's \`smtp-source\`; STARTTLS + AUTH LOGIN and "x10" rows (10 messages per session) by our Node client (\`bench/load/smtp-client.ts\`). "10 rcpt" rows: one message per session with 10 envelope recipients of the same domain (1bob@…, 2bob@…, as \`smtp-source -r 10\` names them), delivered as one transaction with 10 RCPTs; the sink counts messages, so msg/s there is messages (of 10 recipients each) per second.`,
    '- Every server relays to its own `smtp-sink` on loopback, which counts arrivals: msg/s is from the first connection to the last message **delivered** at the sink. A row only counts if the sink got exactly the messages sent.',
    `- Latency: ${o.latencyMessages} messages one after another over one session (light load), MAIL FROM to the reply after DATA, measured by the client after each round's throughput run.`,
    '- CPU ms/msg: utime+stime+cutime+cstime of the server\'s process tree (/proc/PID/stat) before and after, divided by the messages. Peak RSS: the tree\'s summed VmRSS sampled every 200 ms. For `ceiling` both are the sink\'s.',
    '- Main thread ms/msg (Haraka with one process): utime+stime of its main thread alone (/proc/PID/task/PID/stat), the thread every SMTP session and plugin runs on, so the one that limits throughput; the process\'s other threads (libuv\'s pool: queue files, fsync; V8\'s GC helpers) are in CPU ms/msg only. It varies less from round to round than msg/s on cores shared with the load generator.',
    '- Redis cmds/msg: INFO commandstats delta (MULTI and EXEC included, our INFO calls excluded) over the measurement, divided by the messages; the gateway variants each have their own redis-server, so background work (stats flushes) is included.',
    `- Redis round trips/msg: a separate measurement per gateway variant (up to 1000 messages) under Redis MONITOR: each command outside MULTI/EXEC counts one, each MULTI…EXEC block one, commands issued inside Lua scripts none (the gateway's per-message paths use no plain pipelines). Counted from the whole instance, so periodic work (stats flushes) is included.`,
    '- Peak RSS sums VmRSS over all processes of a server: for Postfix (master, smtpd, cleanup, qmgr, smtp, …) shared pages are counted once per process, which overstates it.',
    '- Variants: ' + r.rows.filter((x) => x.perSession === 1 && x.recipients === 1).map((x) => `\`${x.key}\` = ${x.title}`).join('; ') + '.',
    '- The gateway runs exactly as shipped (its plugin lists, config and log level `notice`) with `nodes=0` (one process), its test deployment defaults otherwise (test/helpers/gateway.ts: retries every 5 s, no Received header on relayed mail as in bare Haraka, Prometheus endpoint on an address of its own) and an empty fixture DNS: every lookup is NXDOMAIN (kept per its negative TTL, as any answer), none leaves the machine.',
    ...(r.skipped.length ? [`- Skipped: ${r.skipped.join('; ')}.`] : []),
    '',
    '## Results',
    '',
    resultsTable(r.rows),
    '',
    ...r.rows.filter((x) => x.redisRoundTripTop).map((x) => `- Redis round trips of \`${x.key}\` by command: ${x.redisRoundTripTop}`),
    '',
    ...(ratios ? ['## Ratios', '', 'Per round (both sides measured in the same round), median and spread over rounds. Throughput below 1 means slower; CPU above 1 means more CPU per message.', '', ratios, ''] : []),
  ]
  if (r.scaling) parts.push(scalingMarkdown(r.scaling))
  if (r.ablation) parts.push(ablationMarkdown(r.ablation))
  return `${parts.join('\n')}\n`
}

export function scalingMarkdown(s: ScalingResult): string {
  const parts = ['## Scaling', '', s.note, '']
  for (const section of s.sections) parts.push(`### ${section.title}`, '', table(section.header, section.rows), '')
  return parts.join('\n')
}

const spreadCell = (values: number[], digits: number) => cell(spread(values), digits)
const deliveredCell = (ms: readonly Measurement[]) => `${ms.reduce((s, m) => s + m.delivered, 0)}/${ms.reduce((s, m) => s + m.sent, 0)}`

export function ablationMarkdown(a: AblationResult): string {
  const rows = [
    ['shipped pipeline (scanners off)', '–', spreadCell(a.shipped.map((m) => m.msgPerSec), 0), spreadCell(a.shipped.map((m) => m.cpuMsPerMsg), 2), '–', deliveredCell(a.shipped)],
    ...a.copies.map((c) => [
      `without ${c.label}`,
      c.plugins.map((p) => `\`${p}\``).join(', '),
      spreadCell(c.measurements.map((m) => m.msgPerSec), 0),
      spreadCell(c.measurements.map((m) => m.cpuMsPerMsg), 2),
      spreadCell(c.measurements.map((m, i) => a.shipped[i]!.cpuMsPerMsg - m.cpuMsPerMsg), 2),
      deliveredCell(c.measurements),
    ]),
  ]
  return [
    '## What each protection costs',
    '',
    `The shipped inbound pipeline (scanners off) and copies of it each started without one group of plugins, interleaved over ${a.rounds} round${a.rounds === 1 ? '' : 's'} with the same load as above. "CPU ms/msg it costs" is the shipped pipeline's CPU per message minus the copy's, in the same round (median and spread over rounds); the groups' costs need not add up exactly (fewer plugins also means less of Haraka's own per-hook work and less garbage).`,
    '',
    table(['inbound instance', 'plugins left out', 'msg/s', 'CPU ms/msg', 'CPU ms/msg it costs', 'delivered/sent'], rows),
    '',
  ].join('\n')
}
