// gateway-core: loaded first by both instances. It checks that the installed
// Haraka is the one the gateway was checked against (lib/haraka: the version and
// every internal the gateway uses), validates the shared and the instance
// configuration (refusing to start on any problem: unknown plugins, plugins in the
// wrong instance or out of their declared order), then applies the settings
// Haraka itself needs before it opens sockets: listen addresses from
// config/gateway.ini or the environment, TLS material for STARTTLS, DNS resolvers.

import cluster from 'node:cluster'
import os from 'node:os'
import path from 'node:path'

import { UnavailableError } from '../../lib/config/errors'
import { listenSetting, type GatewayConfig } from '../../lib/config/gateway'
import { checkInstance } from '../../lib/config/instance'
import { instanceConfigDir, type InstanceName } from '../../lib/config/paths'
import { applyDnsServers } from '../../lib/net/resolvers'
import { checkHaraka, setListen } from '../../lib/haraka'
import { formatHostPort } from '../../lib/net/address'
import { listenProblemsSync } from '../../lib/net/listen-check'
import { definePlugin } from '../../lib/plugin/define'
import { ensureTlsMaterial } from '../../lib/tls/material'

export = definePlugin({
  name: 'gateway-core',
  instances: ['inbound', 'outbound'],
  hooks: [],
  setup({ plugin, instance, gateway: cfg }) {
    // before anything else: every other plugin relies on it (exit 78 naming both versions)
    const haraka = checkHaraka(plugin)
    if (haraka.warning) plugin.logwarn(haraka.warning)
    const plugins = checkInstance(path.dirname(instanceConfigDir()), instance)

    // Haraka reads smtp.ini's listen when it opens sockets, after every register():
    // setting it here makes config/gateway.ini (or the environment) the one source.
    const listen = setListen(plugin, cfg.settings[instance].listen.map(formatHostPort).join(','))
    // An address in use would make Haraka print its stack trace (twice) and exit: say it in one
    // line first. Only where sockets are opened (a cluster's workers inherit the primary's).
    if (cluster.isPrimary) checkListen(cfg, instance)

    if (plugins.includes('tls')) {
      const me = String(plugin.config.get('me') ?? '') || os.hostname()
      for (const file of ensureTlsMaterial(instanceConfigDir(), me)) plugin.lognotice(`created ${file}`)
    }
    applyDnsServers(plugin, cfg.settings.dns.servers)
    plugin.loginfo(`${instance}: Haraka ${haraka.version}, listen ${listen}, accepted domains ${[...cfg.acceptedDomains].join(' ')}`)
    return { hooks: {} }
  },
})

function checkListen(cfg: GatewayConfig, instance: InstanceName): void {
  const addrs = cfg.settings[instance].listen
  const problems = listenProblemsSync(addrs)
  const i = problems.findIndex((p) => p !== undefined)
  if (i < 0) return
  throw new UnavailableError(`cannot listen on ${formatHostPort(addrs[i]!)} (${instance} instance, ${listenSetting(cfg, instance)}): ${problems[i]!}`)
}
