// Checks of an instance directory (inbound/ or outbound/) that Haraka itself would
// get wrong or report badly: plugins that do not exist (Haraka dies with a stack
// trace), security-critical plugins missing or in the wrong instance, and listen
// addresses set in two places.

import fs from 'node:fs'
import path from 'node:path'

import { checkOutboundOrder } from '../outbound/plugin-order'
import { ConfigError } from './errors'
import { readList } from './ini'
import { displayPath, type InstanceName } from './paths'

/** Plugins each instance cannot be safe without. */
const REQUIRED: Record<InstanceName, readonly string[]> = {
  inbound: ['gateway-core', 'gateway-accepted-domains', 'gateway-spool'],
  outbound: ['gateway-core', 'gateway-submission-auth', 'gateway-spool'],
}

/** Inbound faces the Internet: nothing that offers AUTH may load there. */
function offersAuth(name: string): boolean {
  return name.startsWith('auth/') || name.startsWith('auth-') || name === 'gateway-submission-auth'
}

export function checkInstance(instanceDir: string, instance: InstanceName): string[] {
  const pluginsFile = path.join(instanceDir, 'config', 'plugins')
  const where = displayPath(pluginsFile)
  const entries = readList(pluginsFile)
  const names = entries.map((e) => e.value.replace(/^haraka-plugin-/, ''))
  if (names[0] !== 'gateway-core') {
    throw new ConfigError(where, 'gateway-core', 'must be the first plugin (it validates configuration and sets up the others)')
  }
  for (const [i, name] of names.entries()) {
    const line = entries[i]!.line
    if (!pluginExists(instanceDir, name)) {
      throw new ConfigError(`${where}:${line}`, name, 'unknown plugin (not built in, not in plugins/, not an installed haraka-plugin-* package)')
    }
    if (instance === 'inbound' && offersAuth(name)) {
      throw new ConfigError(`${where}:${line}`, name, 'offers SMTP AUTH, which the Internet-facing inbound instance must never do')
    }
  }
  if (instance === 'outbound') checkOutboundOrder(names.map((name, i) => ({ name, line: entries[i]!.line })), where)
  for (const required of REQUIRED[instance]) {
    if (!names.includes(required)) throw new ConfigError(where, required, `is required in the ${instance} instance`)
  }
  const smtpIni = path.join(instanceDir, 'config', 'smtp.ini')
  if (fs.existsSync(smtpIni) && /^\s*listen\s*=/m.test(fs.readFileSync(smtpIni, 'utf8'))) {
    throw new ConfigError(displayPath(smtpIni), 'listen', `set the ${instance} listen address in config/gateway.ini [${instance}] listen (or GATEWAY_${instance.toUpperCase()}_LISTEN) instead`)
  }
  return names
}

/** Haraka's plugin search order (plugins.js, 3.3.x), without loading anything. */
function pluginExists(instanceDir: string, name: string): boolean {
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
  return candidates.some((p) => fs.existsSync(p))
}
