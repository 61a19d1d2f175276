// `gateway check-config`: validates everything `gateway start` would, without
// starting anything: the shared configuration, each instance's plugin list
// (plugins exist, run in that instance, in an order their declarations allow)
// and every gateway plugin's settings file. Exit code 0 when good, 78 with one
// clear message when not.

import { ConfigError } from '../lib/config/errors'
import { loadGatewayConfig } from '../lib/config/gateway'
import { checkInstance } from '../lib/config/instance'
import { instanceDir } from '../lib/config/paths'
import { formatHostPort } from '../lib/net/address'

export function checkConfigCommand(): number {
  try {
    const { settings, acceptedDomains } = loadGatewayConfig()
    const inbound = checkInstance(instanceDir('inbound'), 'inbound', { pluginSettings: true })
    const outbound = checkInstance(instanceDir('outbound'), 'outbound', { pluginSettings: true })
    console.log(`configuration OK
  accepted domains: ${[...acceptedDomains].join(', ')}
  internal hosts:   ${settings.internal.hosts.map(formatHostPort).join(', ')}
  inbound plugins:  ${inbound.join(' ')}
  outbound plugins: ${outbound.join(' ')}`)
    return 0
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`gateway: configuration error: ${err.message}`)
    return 78
  }
}
