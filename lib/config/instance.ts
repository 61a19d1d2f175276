// Checks of an instance directory (inbound/ or outbound/) that Haraka itself would
// get wrong or report badly: plugins that do not exist (Haraka dies with a stack
// trace), security-critical plugins missing, plugins in the wrong instance or in
// an order their declarations forbid (lib/plugin/order.ts), plugin settings
// files with errors, and listen addresses set in two places.

import fs from 'node:fs'
import path from 'node:path'

import { listPlugins } from '../plugin/catalog'
import { instanceProblem } from '../plugin/declaration'
import { checkOrder } from '../plugin/order'
import { ConfigError } from './errors'
import { displayPath, type InstanceName } from './paths'
import { loadPluginConfig, pluginConfigFile } from './plugin-config'

/** Plugins each instance cannot be safe without. */
const REQUIRED: Record<InstanceName, readonly string[]> = {
  inbound: ['gateway-core', 'gateway-accepted-domains', 'gateway-spool'],
  outbound: ['gateway-core', 'gateway-submission-auth', 'gateway-spool'],
}

/** Inbound faces the Internet: nothing that offers AUTH may load there. */
function offersAuth(name: string): boolean {
  return name.startsWith('auth/') || name.startsWith('auth-') || name === 'gateway-submission-auth'
}

export interface CheckOptions {
  /**
   * Also validate each gateway plugin's settings file (<name>.ini) against what the
   * plugin declares. `gateway check-config` and `gateway start` do; inside a running
   * instance each plugin validates its own as it loads.
   */
  readonly pluginSettings?: boolean
}

/** Throws the first problem as a ConfigError; returns the plugin names in load order. */
export function checkInstance(instanceDir: string, instance: InstanceName, opts: CheckOptions = {}): string[] {
  const list = listPlugins(instanceDir)
  const where = displayPath(list.file)
  const names = list.entries.map((e) => e.name)
  if (names[0] !== 'gateway-core') {
    throw new ConfigError(where, 'gateway-core', 'must be the first plugin (it validates configuration and sets up the others)')
  }
  for (const entry of list.entries) {
    const at = `${where}:${entry.line}`
    if (!entry.location) {
      throw new ConfigError(at, entry.name, 'unknown plugin (not built in, not in plugins/, not an installed haraka-plugin-* package)')
    }
    if (instance === 'inbound' && offersAuth(entry.name)) {
      throw new ConfigError(at, entry.name, 'offers SMTP AUTH, which the Internet-facing inbound instance must never do')
    }
    const wrongInstance = entry.declaration && instanceProblem(entry.declaration, instance)
    if (wrongInstance) throw new ConfigError(at, entry.name, wrongInstance)
  }
  checkOrder(list.entries, instance, where)
  for (const required of REQUIRED[instance]) {
    if (!names.includes(required)) throw new ConfigError(where, required, `is required in the ${instance} instance`)
  }
  const smtpIni = path.join(instanceDir, 'config', 'smtp.ini')
  if (fs.existsSync(smtpIni) && /^\s*listen\s*=/m.test(fs.readFileSync(smtpIni, 'utf8'))) {
    throw new ConfigError(displayPath(smtpIni), 'listen', `set the ${instance} listen address in config/gateway.ini [${instance}] listen (or GATEWAY_${instance.toUpperCase()}_LISTEN) instead`)
  }
  if (opts.pluginSettings) {
    for (const { declaration } of list.entries) {
      if (declaration?.config) loadPluginConfig(declaration.config, pluginConfigFile(declaration.name, path.join(instanceDir, 'config')))
    }
  }
  return names
}
