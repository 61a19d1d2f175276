// Shared steps of the outbound queue tests (TLS policy, retries and bounces, queue
// operations): the shipped outbound plugin list with the queue plugins added, a
// relay user, one authenticated submission, and `gateway queue` run as a separate
// process against the test's deployment root.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { expect, vi } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { base64 } from '../../lib/smtp/client'
import { addUser } from './fixtures'
import { sendMail, testMessage, type TestGateway } from './gateway'

/** The repository's outbound/config/plugins with `extra` inserted before gateway-routing (as the README asks). */
export function outboundPluginsWith(...extra: string[]): string {
  const lines = fs.readFileSync(path.join(GATEWAY_ROOT, 'outbound', 'config', 'plugins'), 'utf8').split('\n')
  const at = lines.findIndex((l) => l.trim() === 'gateway-routing')
  if (at < 0) throw new Error('outbound/config/plugins has no gateway-routing line')
  return [...lines.slice(0, at), ...extra, ...lines.slice(at)].join('\n')
}

export const RELAY_PASSWORD = 'correct horse battery'

export function addRelayUser(gw: TestGateway, name: string, password = RELAY_PASSWORD): void {
  addUser(gw, name, password)
}

/** STARTTLS, AUTH PLAIN, one message; returns the marker to find it downstream. */
export async function submit(gw: TestGateway, opts: { user: string; from: string; to: string[]; subject?: string }): Promise<string> {
  const { client } = await gw.connect('outbound')
  await client.ehlo()
  expect((await client.startTls()).code).toBe(220)
  await client.ehlo()
  expect((await client.send(`AUTH PLAIN ${base64(`\0${opts.user}\0${RELAY_PASSWORD}`)}`)).code).toBe(235)
  const { text, marker } = testMessage({ from: opts.from, to: opts.to[0]!, subject: opts.subject ?? 'queue test' })
  const r = await sendMail(client, { from: opts.from, to: opts.to }, text)
  await client.quit()
  expect(r.end?.code, `DATA ended with ${r.end?.code} ${r.end?.text}`).toBe(250)
  return marker
}

/** `gateway queue ARGS` as its own process (dist/cli/queue.js), on the test's deployment root. */
export function queueCli(gw: TestGateway, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const entry = path.join(GATEWAY_ROOT, 'dist', 'cli', 'queue.js')
  const script = `require(${JSON.stringify(entry)}).queueCommand(process.argv.slice(1)).then((c) => process.exit(c), (e) => { console.error(e); process.exit(70) })`
  const r = spawnSync(process.execPath, ['-e', script, '--', ...args], {
    env: { ...process.env, GATEWAY_ROOT: gw.root },
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The rows of `gateway queue list` as objects keyed by its header. */
export function queueRows(gw: TestGateway, instance: 'outbound' | 'inbound' = 'outbound'): Record<string, string>[] {
  const r = queueCli(gw, '--instance', instance, 'list')
  expect(r.status, r.stderr).toBe(0)
  const [header, ...rows] = r.stdout.trimEnd().split('\n')
  const keys = header!.split('\t')
  return rows.filter(Boolean).map((row) => Object.fromEntries(row.split('\t').map((v, i) => [keys[i]!, v])))
}

/** Polls `check` until it holds (queue files disappear a moment after the remote's 250). */
export async function eventually(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error(`still not true after ${timeoutMs} ms: ${what}`)
    },
    { timeout: timeoutMs, interval: 50 },
  )
}
