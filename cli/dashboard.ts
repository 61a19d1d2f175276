// `gateway dashboard`: the web dashboard alone, in the foreground (a systemd
// unit beside the instances, or a host that only watches). It reads the Redis
// the running gateway uses, as the other reporting commands do; Ctrl-C or
// SIGTERM stops it. `gateway start` serves the same dashboard in-process.

import { ConfigError } from '../lib/config/errors'
import { loadGatewayConfig, type GatewayConfig } from '../lib/config/gateway'
import { displayPath } from '../lib/config/paths'
import { dashboardListenProblem, dashboardOptions, describeListenFailure } from '../lib/dashboard/settings'
import { startDashboard, type RunningDashboard } from '../lib/dashboard/server'
import { redact } from '../lib/redis/client'
import { connectGatewayRedis, runningGateway, staleNote } from './running-gateway'

export const DASHBOARD_USAGE = 'usage: gateway dashboard   (serves [dashboard] listen of config/gateway.ini until Ctrl-C)'

export async function dashboardCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error(DASHBOARD_USAGE)
    return 64
  }
  let cfg: GatewayConfig
  try {
    cfg = loadGatewayConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`gateway: configuration error: ${err.message}`)
    return 78
  }
  const gateway = runningGateway(cfg)
  const connected = await connectGatewayRedis(gateway)
  if ('problem' in connected) {
    console.error(`gateway: ${connected.problem}`)
    return 69
  }
  connected.redis.disconnect() // the dashboard keeps a reconnecting client of its own
  const note = staleNote(gateway)
  if (note) console.error(`gateway: note: ${note}`)
  const { target } = connected
  const opts = dashboardOptions(cfg, target, (line) => console.error(`gateway: ${line}`))
  if (!opts) {
    console.error(`gateway: the dashboard is off (${displayPath(cfg.dir)}/gateway.ini [dashboard] listen=off, or GATEWAY_DASHBOARD_LISTEN=off): set it to an address, e.g. 127.0.0.1:9180`)
    return 78
  }
  const taken = await dashboardListenProblem(cfg, opts.listen)
  if (taken) {
    console.error(`gateway: cannot listen on ${taken}`)
    return 69
  }
  let dashboard: RunningDashboard
  try {
    dashboard = await startDashboard(opts)
  } catch (err) {
    console.error(`gateway: cannot listen on ${describeListenFailure(cfg, opts.listen, (err as Error).message)}`)
    return 69
  }
  console.log(`gateway dashboard: ${dashboard.url} (counters from Redis at ${redact(target.url)}, prefix ${target.prefix}; ${opts.token ? 'token required' : 'no token: loopback only'})`)
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve())
  })
  await dashboard.close()
  console.log('gateway dashboard: stopped')
  return 0
}
