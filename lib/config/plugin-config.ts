// A plugin's own settings: <instance>/config/<plugin>.ini, validated against the
// plugin's schema. A missing file means "all defaults", like any Haraka plugin.

import path from 'node:path'

import { readIni } from './ini'
import { instanceConfigDir } from './paths'
import { validate, type Infer, type Schema } from './schema'

export function pluginConfigFile(pluginName: string): string {
  return path.join(instanceConfigDir(), `${pluginName}.ini`)
}

export function pluginConfig<S extends Schema>(pluginName: string, schema: S): Infer<S> {
  const file = pluginConfigFile(pluginName)
  return validate(readIni(file), file, schema)
}
