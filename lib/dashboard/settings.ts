// What `gateway start` and `gateway dashboard` need to run the dashboard from
// the configuration: its address (or none), token, bucket TTLs, and the one line
// saying why its address cannot be used (as for the instances' addresses).

import type { GatewayConfig } from '../config/gateway'
import { dashboardListenSetting } from '../config/gateway'
import { redisFilesOf } from '../redis/redis-files'
import { formatHostPort, type HostPort } from '../net/address'
import { listenProblem } from '../net/listen-check'
import type { DashboardOptions } from './server'

/** The dashboard's options, or undefined when [dashboard] listen is off. */
export function dashboardOptions(cfg: GatewayConfig, redis: { url: string; prefix: string }, log: (line: string) => void): DashboardOptions | undefined {
  const { dashboard, stats } = cfg.settings
  if (!dashboard.listen) return undefined
  return {
    listen: dashboard.listen,
    token: dashboard.token,
    redisUrl: redis.url,
    redisPrefix: redis.prefix,
    connectTimeoutMs: cfg.settings.redis.connect_timeout_ms,
    redisFiles: redisFilesOf(cfg.settings.redis),
    ttls: { minute_ttl: stats.minute_ttl, hour_ttl: stats.hour_ttl },
    log,
  }
}

/** "H:P (dashboard, <setting>): <problem>" when the address cannot be listened on now, else undefined. */
export async function dashboardListenProblem(cfg: GatewayConfig, addr: HostPort): Promise<string | undefined> {
  const problem = await listenProblem(addr)
  return problem ? describeListenFailure(cfg, addr, problem) : undefined
}

export function describeListenFailure(cfg: GatewayConfig, addr: HostPort, problem: string): string {
  return `${formatHostPort(addr)} (dashboard, ${dashboardListenSetting(cfg)}): ${problem}`
}
