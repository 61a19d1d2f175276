// What every file of lib/haraka is built on: how a Haraka internal is named,
// loaded and checked, and the one error an incompatible Haraka produces.
// An internal is anything the gateway uses that Haraka does not document as
// plugin API (hooks, config, results, notes, the public connection and
// transaction fields): a function it wraps, a module it loads, a field it reads.

import { createRequire } from 'node:module'

/** Loads a module of the running Haraka (`plugin.haraka_require`): './connection', './outbound/hmail', ... */
export type HarakaLoader = (path: string) => unknown

/** Anything that can load Haraka's modules: a plugin object, or a loader (unit tests). */
export type HarakaSource = { haraka_require(path: string): unknown } | HarakaLoader

/** The checklist every problem points to (beside this file). */
export const CHECKLIST = 'lib/haraka/UPGRADING.md'

/** One Haraka internal the gateway depends on, described so that startup can check it. */
export interface HarakaInternal {
  /** The module, as haraka_require takes it: './connection'. */
  readonly module: string
  /** Where in the module: ['Connection', 'prototype', 'cmd_mail']. */
  readonly member: readonly string[]
  readonly kind: 'function' | 'string' | 'object'
  /** Who relies on it (a plugin, or a gateway feature), named in the error. */
  readonly usedBy: string
  /** A further check of the value (e.g. of the fields a constructed object has): the problem, or undefined. */
  readonly probe?: (value: unknown) => string | undefined
}

/** "connection.js Connection.prototype.cmd_mail": how errors and the checklist name an internal. */
export function internalName(i: HarakaInternal): string {
  const module = i.module.replace(/^\.\//, '')
  // a file gets its extension; a package ('haraka-email-message') is named as it is
  const file = !i.module.includes('/') || module.endsWith('.json') ? module : `${module}.js`
  return i.member.length === 0 ? file : `${file} ${i.member.join('.')}`
}

/**
 * The installed Haraka is not the one the gateway was checked against, or lacks
 * an internal the gateway uses. Stops startup with one line (exit 78: restarting cannot
 * fix it, an administrator must; see the systemd unit in the README).
 */
export class HarakaIncompatibleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'HarakaIncompatibleError'
  }
}

/**
 * A loader for `source`. A plugin's loader takes Haraka's own files ('./x') from
 * haraka_require and packages ('haraka-net-utils/...') as Haraka's files resolve them.
 */
export function loaderOf(source: HarakaSource): HarakaLoader {
  if (typeof source === 'function') return source
  return (p) => (p.startsWith('./') ? source.haraka_require(p) : harakaPackageRequire()(p))
}

/** require() as Haraka's own files do (packages resolve to the copies Haraka uses). */
export function harakaPackageRequire(): NodeJS.Require {
  return createRequire(require.resolve('haraka/package.json'))
}

/** Why `i` is not what the gateway expects, or undefined when it is. */
export function internalProblem(load: HarakaLoader, i: HarakaInternal): string | undefined {
  let value: unknown
  try {
    value = load(i.module)
  } catch (err) {
    return `${internalName(i)}: cannot be loaded (${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)})`
  }
  for (const key of i.member) {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
      value = undefined
      break
    }
    value = (value as Record<string, unknown>)[key]
  }
  if (typeof value !== i.kind || value === null) {
    return `${internalName(i)} is ${value === null ? 'null' : typeof value}, not ${i.kind === 'object' ? 'an' : 'a'} ${i.kind}`
  }
  let probed: string | undefined
  try {
    probed = i.probe?.(value)
  } catch (err) {
    probed = `probing it failed (${err instanceof Error ? err.message : String(err)})`
  }
  return probed === undefined ? undefined : `${internalName(i)}: ${probed}`
}

/** The internal's value; throws HarakaIncompatibleError naming it when it is missing or of another kind. */
export function requireInternal<T>(source: HarakaSource, i: HarakaInternal): T {
  const load = loaderOf(source)
  const problem = internalProblem(load, i)
  if (problem) throw new HarakaIncompatibleError(incompatible(problem, i))
  let value = load(i.module)
  for (const key of i.member) value = (value as Record<string, unknown>)[key]
  return value as T
}

/** The one-line message for an internal that is not as expected. */
export function incompatible(problem: string, i: HarakaInternal, version?: string): string {
  return `Haraka${version ? ` ${version}` : ''} lacks what the gateway relies on: ${problem} (used by ${i.usedBy}); see ${CHECKLIST}`
}
