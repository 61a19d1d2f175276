// The `gateway start` banner's line on the Prometheus endpoints: where each
// instance serves /metrics (from its gateway-metrics.ini), or off.

import { formatHostPort } from '../net/address'
import { loadMetricsSettings } from './settings'

/** "  metrics   http://127.0.0.1:9125/metrics (inbound), http://127.0.0.1:9126/metrics (outbound)". Throws ConfigError like startup. */
export function metricsBannerLine(files: { readonly inbound: string; readonly outbound: string }): string {
  const parts = (['inbound', 'outbound'] as const).map((instance) => {
    const s = loadMetricsSettings(files[instance])
    if (!s.listen) return `off (${instance})`
    return `http://${formatHostPort(s.listen)}/metrics (${instance}${s.token ? ', bearer token required' : ''})`
  })
  return `  metrics   ${parts.join(', ')}`
}
