// Helpers for the message tracking tests: `gateway track` run as its own process
// against a test gateway (its Redis, prefix and deployment root), a gateway.ini
// with changed [tracking]/[node] settings, and tracking counters read from Redis.

import { execFile, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import type { TestGateway } from './gateway'

export interface CliRun {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs `node bin/gateway ARGS` without blocking this process (the test's mail servers live here). */
export function gatewayCli(gw: TestGateway, args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(GATEWAY_ROOT, 'bin', 'gateway'), ...args],
      { env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root, GATEWAY_CONFIG_DIR: path.join(gw.root, 'config'), ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

export const track = (gw: TestGateway, ...args: string[]) => gatewayCli(gw, ['track', ...args])

/** The shipped config/gateway.ini with `changes` (key -> value) applied in their sections. */
export function gatewayIni(changes: { node?: string; recordTtl?: string; bufferMaxUnits?: number; eventLog?: string }): string {
  let text = fs.readFileSync(path.join(GATEWAY_ROOT, 'config', 'gateway.ini'), 'utf8')
  const set = (pattern: RegExp, line: string) => {
    if (!pattern.test(text)) throw new Error(`config/gateway.ini has no line matching ${pattern}`)
    text = text.replace(pattern, line)
  }
  if (changes.node) set(/^;?name=.*$/m, `name=${changes.node}`)
  if (changes.recordTtl) set(/^record_ttl=.*$/m, `record_ttl=${changes.recordTtl}`)
  if (changes.bufferMaxUnits !== undefined) set(/^buffer_max_units=.*$/m, `buffer_max_units=${changes.bufferMaxUnits}`)
  if (changes.eventLog) set(/^event_log=.*$/m, `event_log=${changes.eventLog}`)
  return text
}

/** The --json document of `gateway track` (see lib/tracking/timeline.ts jsonDocument). */
export interface TrackJson {
  version: number
  messages: {
    messageId: string | null
    records: {
      id: string
      valid: boolean
      problem: string | null
      record: Record<string, unknown> & { instance: string; status: string; id: string; node: string }
      summary: string | null
      events: (Record<string, unknown> & { type: string; recordId: string })[]
      eventsMissing: number
    }[]
  }[]
}

/** `gateway user may-send USER LIST` (an internal server forwarding mail of other senders needs a wider scope). */
export function allowSenders(gw: TestGateway, user: string, list: string): void {
  const r = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'user', 'may-send', user, list], {
    env: { ...process.env, GATEWAY_ROOT: gw.root, GATEWAY_USERS_FILE: path.join(gw.root, 'outbound', 'config', 'smtp-users') },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`gateway user may-send ${user} failed: ${r.stderr}`)
}
