// gateway-metrics: the instance's Prometheus endpoint (GET /metrics, GET /healthz)
// at gateway-metrics.ini [http] listen. It sees every traffic counter the
// instance counts (lib/metrics/observe.ts, fed by the shared write batch's
// count()) and keeps them as Prometheus counters in memory: a scrape never
// touches Redis, and counting never waits for anything. In Haraka's cluster mode
// the master serves the sum of its workers (lib/metrics/registry.ts).
// An address that cannot be listened on stops startup with one line naming the
// file and key (exit 69), like the SMTP address itself: a monitoring endpoint
// that silently is not there is worse than an instance that says why it won't start.

import cluster from 'node:cluster'

import { UnavailableError } from '../../lib/config/errors'
import { displayPath } from '../../lib/config/paths'
import { pluginConfigFile } from '../../lib/config/plugin-config'
import { metricsHandler } from '../../lib/metrics/http'
import { observeCounts } from '../../lib/metrics/observe'
import { queueDir } from '../../lib/haraka'
import { harakaQueueStats } from '../../lib/metrics/queue-gauge'
import { processMetrics } from '../../lib/metrics/registry'
import { serveMetrics, type MetricsServer } from '../../lib/metrics/server'
import { loadMetricsSettings } from '../../lib/metrics/settings'
import { formatHostPort } from '../../lib/net/address'
import { listenProblemsSync } from '../../lib/net/listen-check'
import { definePlugin } from '../../lib/plugin/define'
import { describeError } from '../../lib/plugin/run-hook'

const NAME = 'gateway-metrics'

export = definePlugin({
  name: NAME,
  instances: ['inbound', 'outbound'],
  hooks: [],
  config: loadMetricsSettings,
  setup({ plugin, instance, config, gateway }) {
    const metrics = processMetrics({ instance, node: gateway.settings.node.name }, harakaQueueStats(plugin), queueFolderOf(plugin))
    const unobserve = observeCounts((field, by) => metrics.counters.count(field, by))
    const addr = config.listen
    // cluster workers only answer their master, which alone listens
    let server: MetricsServer | undefined
    if (addr && !cluster.isWorker) {
      const where = `${displayPath(pluginConfigFile(NAME))} [http] listen`
      const endpoint = formatHostPort(addr)
      const [problem] = listenProblemsSync([addr])
      if (problem) throw new UnavailableError(`cannot listen on ${endpoint} (${instance} metrics endpoint, ${where}): ${problem}`)
      const handler = metricsHandler({
        token: config.token,
        render: () => metrics.render(),
        onError: (err) => plugin.logerror(`metrics scrape failed: ${describeError(err)}`),
      })
      server = serveMetrics(addr, handler, {
        onListenError(err) {
          // taken between the check and now: the same answer as the check's, one line
          process.stderr.write(`gateway: cannot listen on ${endpoint} (${instance} metrics endpoint, ${where}): ${err.code ?? err.message}\n`)
          process.exit(69) // EX_UNAVAILABLE
        },
        onError: (err) => plugin.logerror(`metrics endpoint ${endpoint}: ${err.message}`),
      })
      plugin.lognotice(`metrics on http://${endpoint}/metrics${config.token ? ' (bearer token required)' : ''}`)
    }
    return {
      hooks: {},
      async shutdown() {
        unobserve()
        await server?.close()
      },
    }
  },
})

/** The delivery queue's folder (for the oldest message's age), or undefined (logged) when this Haraka does not say. */
function queueFolderOf(plugin: Haraka.Plugin): string | undefined {
  try {
    return queueDir(plugin)
  } catch (err) {
    plugin.logwarn(`delivery queue folder unknown (${describeError(err)}): no gateway_delivery_queue_oldest_seconds`)
    return undefined
  }
}
