// `gateway links` as its own process (node bin/gateway links ...), on a test
// gateway's deployment root and Redis prefix, and its --json document.

import { spawnSync } from 'node:child_process'
import path from 'node:path'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import type { LinkJson, LinksJson } from '../../lib/links/view'
import type { TestGateway } from './gateway'

export function linksCli(gw: TestGateway, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return linksCliWith(gw, {}, ...args)
}

/** linksCli with environment variables changed (e.g. a REDIS_URL where nothing answers). */
export function linksCliWith(gw: TestGateway, env: Record<string, string>, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { NODE_ENV: _n, VITEST: _v, ...inherited } = process.env
  const r = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'links', ...args], {
    env: { ...inherited, REDIS_URL: gw.opts.redisUrl, GATEWAY_REDIS_PREFIX: gw.redisPrefix, GATEWAY_ROOT: gw.root, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The --json document of `gateway links ARGS --json` (fails on a non-zero exit). */
export function linksJson(gw: TestGateway, ...args: string[]): LinksJson {
  const r = linksCli(gw, ...args, '--json')
  if (r.status !== 0) throw new Error(`gateway links exited ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout) as LinksJson
}

/** One destination's entry, or undefined. */
export function linkOf(doc: LinksJson, instance: LinkJson['instance'], destination: string): LinkJson | undefined {
  return doc.links.find((l) => l.instance === instance && l.destination === destination)
}
