// A plugin's own settings: <instance>/config/<plugin>.ini, validated against what
// the plugin declares (definePlugin's `config`): a schema, or a loader for files
// a schema alone cannot describe (sections per rule or per peer, checks across
// keys). The same declaration serves the instance at startup and `gateway
// check-config`, which validates every plugin's file without starting Haraka.
// A missing file means "all defaults", like any Haraka plugin.

import path from 'node:path'

import { readIni } from './ini'
import { instanceConfigDir } from './paths'
import { validate, type Infer, type Schema } from './schema'

/** A loader reads `file` (absent = defaults) and throws a ConfigError naming file, line and key. */
export type ConfigLoader<T> = (file: string) => T

/** What a plugin declares as its settings. */
export type ConfigSpec = Schema | ConfigLoader<unknown>

/** The settings a plugin's setup() gets for its declaration (undefined when it declares none). */
export type ConfigOf<S> = S extends ConfigLoader<infer T> ? T : S extends Schema ? Infer<S> : undefined

/** The settings file of plugin `pluginName` in the running instance. */
export function pluginConfigFile(pluginName: string, configDir = instanceConfigDir()): string {
  return path.join(configDir, `${pluginName}.ini`)
}

export function loadPluginConfig<S extends ConfigSpec | undefined>(spec: S, file: string): ConfigOf<S> {
  if (spec === undefined) return undefined as ConfigOf<S>
  if (typeof spec === 'function') return spec(file) as ConfigOf<S>
  return validate(readIni(file), file, spec as Schema) as ConfigOf<S>
}
