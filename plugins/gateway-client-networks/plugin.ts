// gateway-client-networks (outbound): an optional allow-list of client networks,
// typically the internal mail servers. Anyone else is refused at connect, before
// they can even try a password.

import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'
import { reject } from '../../lib/plugin/verdict'

const schema = {
  main: {
    /** CIDR networks or addresses allowed to connect; empty allows everyone (AUTH still required). */
    allow: field.networks({ env: 'GATEWAY_OUTBOUND_CLIENTS' }),
  },
}

export = definePlugin({
  name: 'gateway-client-networks',
  instances: ['outbound'],
  hooks: ['connect'],
  config: schema,
  setup({ plugin, config }) {
    const { allow } = config.main
    if (allow.entries.length === 0) return { hooks: {} }
    plugin.loginfo(`clients allowed from: ${allow.entries.join(', ')}`)
    return {
      hooks: {
        connect(c) {
          if (allow.contains(c.remote.ip)) return undefined
          c.results.add(plugin, { fail: 'client_network', ip: c.remote.ip })
          return reject(554, '5.7.1', 'Access denied', { disconnect: true })
        },
      },
    }
  },
})
