// An instance's plugin list as Haraka will load it: each line of
// <instance>/config/plugins, where Haraka finds that plugin, and, for the
// gateway's own plugins (and team plugins kept in <instance>/plugins/ or the
// gateway's plugins/ folder), what the plugin declares. Reading a declaration
// loads the plugin's module but runs none of it (no register(), no setup()).
// Stock plugins from npm and plain .js plugins are found but not loaded: their
// hooks are registered at run time, so only by-name order rules apply to them.

import fs from 'node:fs'
import path from 'node:path'

import { ConfigError } from '../config/errors'
import { readList } from '../config/ini'
import { displayPath, GATEWAY_ROOT } from '../config/paths'
import { declarationOf, type PluginDeclaration } from './declaration'
import type { ListedPlugin } from './order'

export interface ListedEntry extends ListedPlugin {
  /** Where Haraka would load it from; undefined when it does not exist. */
  readonly location: PluginLocation | undefined
  readonly declaration: PluginDeclaration | undefined
}

export type PluginLocation = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'package'; readonly dir: string }

export interface PluginList {
  /** <instance>/config/plugins */
  readonly file: string
  readonly entries: readonly ListedEntry[]
}

/** The name Haraka uses: "haraka-plugin-" is dropped. */
export function pluginName(listed: string): string {
  return listed.replace(/^haraka-plugin-/, '')
}

/** Throws a ConfigError naming the line when a gateway plugin's module cannot be loaded. */
export function listPlugins(instanceDir: string): PluginList {
  const file = path.join(instanceDir, 'config', 'plugins')
  const entries = readList(file).map(({ value, line }) => {
    const name = pluginName(value)
    const location = locatePlugin(instanceDir, name)
    let declaration: PluginDeclaration | undefined
    try {
      declaration = location ? loadDeclaration(instanceDir, location) : undefined
    } catch (err) {
      const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)
      throw new ConfigError(`${displayPath(file)}:${line}`, name, `cannot be loaded: ${why}`)
    }
    return { name, line, location, declaration, hooks: declaration?.hooks, order: declaration?.order }
  })
  return { file, entries }
}

/** Haraka's plugin search order (plugins.js, 3.3.x), without loading anything. */
export function locatePlugin(instanceDir: string, name: string): PluginLocation | undefined {
  const haraka = path.dirname(require.resolve('haraka/package.json'))
  const candidates = [
    path.join(instanceDir, 'plugins', `${name}.js`),
    path.join(instanceDir, 'node_modules', `haraka-plugin-${name}`, 'package.json'),
    path.join(instanceDir, 'plugins', name, 'package.json'),
    path.join(instanceDir, 'node_modules', name, 'package.json'),
    path.join(haraka, 'plugins', `${name}.js`),
    path.join(haraka, 'node_modules', `haraka-plugin-${name}`, 'package.json'),
    path.join(haraka, '..', `haraka-plugin-${name}`, 'package.json'),
  ]
  const found = candidates.find((p) => fs.existsSync(p))
  if (!found) return undefined
  return path.basename(found) === 'package.json' ? { kind: 'package', dir: path.dirname(found) } : { kind: 'file', path: found }
}

/** Folders whose package plugins are loaded for their declaration. */
function declaringRoots(instanceDir: string): string[] {
  return [path.join(GATEWAY_ROOT, 'plugins'), path.join(instanceDir, 'plugins')].map(realpath)
}

function loadDeclaration(instanceDir: string, location: PluginLocation): PluginDeclaration | undefined {
  if (location.kind !== 'package') return undefined
  const dir = realpath(location.dir)
  if (!declaringRoots(instanceDir).some((root) => dir.startsWith(root + path.sep))) return undefined
  return declarationOf(require(dir))
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p)
  } catch {
    return path.resolve(p)
  }
}
