// gateway-core: loaded first by both instances. It checks that the installed
// Haraka is the one the gateway was checked against (lib/haraka: the version and
// every internal the gateway uses), validates the shared and the instance
// configuration (refusing to start on any problem: unknown plugins, plugins in the
// wrong instance or out of their declared order), then applies the settings
// Haraka itself needs before it opens sockets: listen addresses from
// config/gateway.ini or the environment, TLS material for STARTTLS, DNS resolvers,
// the owner-only umask and folders, and the message spool folder.

import cluster from 'node:cluster'
import os from 'node:os'
import path from 'node:path'

import { UnavailableError } from '../../lib/config/errors'
import { listenSetting, type GatewayConfig } from '../../lib/config/gateway'
import { checkInstance } from '../../lib/config/instance'
import { ensureMeFile, type MeFile } from '../../lib/config/me-file'
import { displayPath, instanceConfigDir, type InstanceName } from '../../lib/config/paths'
import { narrowPrivateDirs, usePrivateUmask } from '../../lib/config/private-files'
import { checkHaraka, demoteRoutineLogLines, harakaHookRegistry, overrideGreeting, overrideReceivedLine, queueDir, setListen } from '../../lib/haraka'
import { useMessageSpool } from '../../lib/limits/message-spool'
import { formatHostPort } from '../../lib/net/address'
import { listenProblemsSync } from '../../lib/net/listen-check'
import { applyDnsServers, cacheDnsAnswers } from '../../lib/net/resolvers'
import { shareServerTlsContexts } from '../../lib/tls/shared-server-context'
import { definePlugin } from '../../lib/plugin/define'
import { chainGatewayHooks } from '../../lib/plugin/hook-chains'
import { quarantineDir } from '../../lib/quarantine/settings'
import { ensureTlsMaterial } from '../../lib/tls/material'

export = definePlugin({
  name: 'gateway-core',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init'],
  setup({ plugin, instance, gateway: cfg }) {
    // Before any file is written (Haraka creates its queue folder and files after the plugins load).
    usePrivateUmask()
    // before anything else: every other plugin relies on it (exit 78 naming both versions)
    const haraka = checkHaraka(plugin)
    if (haraka.warning) plugin.logwarn(haraka.warning)
    // Haraka's per-command lines at INFO: the shipped level (notice) keeps gateway-track's summaries
    demoteRoutineLogLines(plugin)
    // Every plugin registers during Haraka's load_plugins, which sorts the hook table before it
    // returns: on the next turn the table is final (a connection that comes earlier runs unchained).
    const registry = harakaHookRegistry(plugin)
    setImmediate(() => {
      const chains = chainGatewayHooks(registry)
      plugin.loginfo(`hook chains: ${chains.map((c) => `${c.hook}(${c.plugins.length})`).join(' ') || 'none'}`)
    })
    const plugins = checkInstance(path.dirname(instanceConfigDir()), instance)

    // Haraka reads smtp.ini's listen when it opens sockets, after every register():
    // setting it here makes config/gateway.ini (or the environment) the one source.
    const listen = setListen(plugin, cfg.settings[instance].listen.map(formatHostPort).join(','))
    // An address in use would make Haraka print its stack trace (twice) and exit: say it in one
    // line first. Only where sockets are opened (a cluster's workers inherit the primary's).
    if (cluster.isPrimary) checkListen(cfg, instance)

    // before any connection: Haraka then keeps config/me in memory instead of looking for it per message
    const me: MeFile = cluster.isPrimary ? ensureMeFile(instanceConfigDir()) : { name: String(plugin.config.get('me') ?? '') || os.hostname() }
    if (me.created) plugin.lognotice(`created ${displayPath(me.created)} with this host's name (${me.name}): set it to the name of your MX/PTR record`)
    if (me.problem) plugin.logwarn(`${me.problem}: Haraka will look for the file at every connection and delivery`)
    if (plugins.includes('tls')) {
      // one TLS context per listener for all STARTTLS sessions, as a tls.Server has (Haraka builds one per session)
      shareServerTlsContexts()
      for (const file of ensureTlsMaterial(instanceConfigDir(), me.name)) plugin.lognotice(`created ${file}`)
    }
    applyDnsServers(plugin, cfg.settings.dns.servers)
    const d = cfg.settings.dns
    cacheDnsAnswers(plugin, {
      txt: { maxTtlSeconds: d.txt_cache_max_ttl, maxNegativeTtlSeconds: d.txt_cache_max_negative_ttl },
      mx: { maxTtlSeconds: d.mx_cache_max_ttl, maxNegativeTtlSeconds: d.mx_cache_max_negative_ttl },
    })
    // large messages go to an owner-only spool file during DATA, not memory (connection.ini [main] spool_*);
    // a cluster worker starts while its siblings may be spooling: only the primary removes leftovers
    useMessageSpool(plugin, cluster.isPrimary)
    if (cluster.isPrimary) {
      const instanceRoot = path.dirname(instanceConfigDir())
      for (const line of narrowPrivateDirs([queueDir(plugin), quarantineDir(instanceRoot)])) plugin.lognotice(line)
    }
    plugin.loginfo(`${instance}: Haraka ${haraka.version}, listen ${listen}, accepted domains ${[...cfg.acceptedDomains].join(' ')}`)
    // The software's name and version tell an attacker which exploits to try: neither the greeting nor the Received header carries it.
    const { greeting, received_product: product } = cfg.settings.smtp
    // Haraka's own greeting ends in the first characters of the session id (connection.ini [uuid] banner_chars): kept, logs are searched by it.
    const uuid = (plugin.config.get('connection.ini') as { uuid?: { banner_chars?: unknown } }).uuid
    const bannerChars = Math.max(0, Number(uuid?.banner_chars ?? 0) || 0)
    return {
      hooks: {
        connect_init(c) {
          overrideGreeting(c, () => `${c.local.host} ESMTP ${greeting}${bannerChars ? ` (${c.uuid.slice(0, bannerChars)})` : ''}`)
          overrideReceivedLine(c, product)
        },
      },
    }
  },
})

function checkListen(cfg: GatewayConfig, instance: InstanceName): void {
  const addrs = cfg.settings[instance].listen
  const problems = listenProblemsSync(addrs)
  const i = problems.findIndex((p) => p !== undefined)
  if (i < 0) return
  throw new UnavailableError(`cannot listen on ${formatHostPort(addrs[i]!)} (${instance} instance, ${listenSetting(cfg, instance)}): ${problems[i]!}`)
}
