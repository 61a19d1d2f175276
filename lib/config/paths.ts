// Where the gateway's files are. A Haraka instance runs with HARAKA=<instance dir>
// (inbound/ or outbound/); the shared config/ sits beside it unless
// GATEWAY_CONFIG_DIR says otherwise (tests and packaged installs use that).

import fs from 'node:fs'
import path from 'node:path'

import { ConfigError } from './errors'

export type InstanceName = 'inbound' | 'outbound'

/** The installation root: the folder holding package.json, config/, inbound/, outbound/. */
export const GATEWAY_ROOT = findRoot(__dirname)

// Compiled code runs from dist/lib/config, tests from lib/config: walk up instead of counting.
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'plugins'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`gateway root not found above ${from}`)
  }
}

/**
 * Where the deployment lives: config/, inbound/, outbound/ and var/ (runtime state).
 * GATEWAY_ROOT points elsewhere (e.g. /etc/edge-gateway); default: the install root.
 */
export function deploymentRoot(): string {
  return path.resolve(process.env.GATEWAY_ROOT || GATEWAY_ROOT)
}

/** A path from config (e.g. "var/org-keys.json"): relative ones are taken from the deployment root. */
export function deploymentPath(configured: string): string {
  return path.resolve(deploymentRoot(), configured)
}

export function instanceDir(instance: InstanceName): string {
  return path.join(deploymentRoot(), instance)
}

export function sharedConfigDir(): string {
  if (process.env.GATEWAY_CONFIG_DIR) return path.resolve(process.env.GATEWAY_CONFIG_DIR)
  if (process.env.HARAKA) return path.resolve(process.env.HARAKA, '..', 'config')
  return path.join(deploymentRoot(), 'config')
}

/** The config/ folder of the running Haraka instance. */
export function instanceConfigDir(): string {
  if (!process.env.HARAKA) throw new Error('HARAKA is not set: not running inside a Haraka instance')
  return path.join(process.env.HARAKA, 'config')
}

/**
 * Which instance this process is. GATEWAY_INSTANCE wins; otherwise the instance
 * directory's name decides, so `haraka -c inbound` needs no extra setting.
 */
export function instanceFromEnv(): InstanceName {
  const named = process.env.GATEWAY_INSTANCE ?? path.basename(process.env.HARAKA ?? '')
  if (named === 'inbound' || named === 'outbound') return named
  throw new ConfigError(
    'environment variable GATEWAY_INSTANCE',
    '',
    `cannot tell whether ${process.env.HARAKA ?? 'this instance'} is the inbound or the outbound instance: set GATEWAY_INSTANCE=inbound or outbound`,
  )
}

/** A path for messages: relative to the gateway root when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file)
  return rel.startsWith('..') ? file : rel
}
