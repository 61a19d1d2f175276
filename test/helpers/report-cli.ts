// `gateway report --json` as an operator runs it against a test gateway's Redis,
// and a poll until the counters (flushed once a second, deliveries later) show what a test expects.

import { spawnSync } from 'node:child_process'
import path from 'node:path'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import type { ReportV1 } from '../../lib/report/model'
import type { TestGateway } from './gateway'
import { lastReading } from './wait'

export interface ReportRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `gateway report ARGS` with the environment of `gw`'s inbound instance (its Redis and prefix). */
export function runReport(gw: TestGateway, args: readonly string[]): ReportRun {
  const r = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'report', ...args], {
    env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root },
    encoding: 'utf8',
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The JSON report (exit 0 required). */
export function reportJson(gw: TestGateway, args: readonly string[]): ReportV1 {
  const r = runReport(gw, [...args, '--json'])
  if (r.status !== 0) throw new Error(`gateway report exited ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout) as ReportV1
}

/** Polls the JSON report until `until` holds (or 20 s pass); the last report. */
export function waitForReport(gw: TestGateway, args: readonly string[], until: (r: ReportV1) => boolean): Promise<ReportV1> {
  return lastReading(() => reportJson(gw, args), until, { timeoutMs: 20_000, intervalMs: 250 })
}
