// `gateway check-config`: validates everything `gateway start` would, without
// starting anything: the shared configuration, each instance's plugin list
// (plugins exist, run in that instance, in an order their declarations allow)
// and every gateway plugin's settings file. Exit code 0 when good, 78 with one
// clear message when not.

import fs from 'node:fs'

import { ConfigError } from '../lib/config/errors'
import { loadGatewayConfig } from '../lib/config/gateway'
import { checkInstance } from '../lib/config/instance'
import { deploymentPath, instanceDir } from '../lib/config/paths'
import { readKeyFile } from '../lib/org/key-file'
import { formatHostPort } from '../lib/net/address'

export function checkConfigCommand(): number {
  try {
    const { settings, acceptedDomains } = loadGatewayConfig()
    const inbound = checkInstance(instanceDir('inbound'), 'inbound', { pluginSettings: true })
    const outbound = checkInstance(instanceDir('outbound'), 'outbound', { pluginSettings: true })
    // created on first start when missing; one that exists must be usable (permissions, JSON, a signing key)
    const keyFile = deploymentPath(settings.org.key_file)
    const keys = fs.existsSync(keyFile) ? (readKeyFile(keyFile), keyFile) : `${keyFile} (created on first start)`
    console.log(`configuration OK
  accepted domains: ${[...acceptedDomains].join(', ')}
  internal hosts:   ${settings.internal.hosts.map(formatHostPort).join(', ')}
  inbound plugins:  ${inbound.join(' ')}
  outbound plugins: ${outbound.join(' ')}
  org header keys:  ${keys}`)
    return 0
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`gateway: configuration error: ${err.message}`)
    return 78
  }
}
