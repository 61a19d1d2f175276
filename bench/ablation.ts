// What each protection of the inbound pipeline costs (BENCH_ABLATION=1): the
// shipped inbound instance (scanners off) beside copies of it each started
// without one group of plugins, measured interleaved round after round. A group's
// cost is its copy's CPU ms/msg subtracted from the shipped pipeline's in the same
// round (median and spread over rounds), so a slow phase of the machine does not
// show up as a cost. The last copy runs without every group: the gateway's own
// frame (listener, TLS, accepted domains, durable spool and queue, routing).

import type { BenchOptions } from './options'
import { generatorFor, measure, type Measurement } from './measure/measurement'
import { gatewayInbound } from './variants/gateway-inbound'
import type { Variant } from './variants/variant'

/** [what it protects, its plugins in inbound/config/plugins] */
export const PROTECTIONS: readonly (readonly [string, readonly string[]])[] = [
  ['sender authentication (SPF, DKIM, DMARC)', ['spf', 'dkim', 'gateway-dmarc']],
  ['content inspection (MIME, attachments, archives)', ['gateway-content']],
  ['records, counters, link state, metrics', ['gateway-track', 'gateway-links', 'gateway-stats', 'gateway-metrics']],
  ['signed organisation header', ['gateway-org-stamp']],
  ['protocol and header checks', ['gateway-message-syntax', 'gateway-header-firewall', 'gateway-smtp-strict']],
  ['sender filter, recipients, limits', ['gateway-sender-filter', 'gateway-recipients', 'gateway-recipient-limit', 'gateway-client-limits', 'gateway-data-budget']],
]

interface Copy {
  label: string
  plugins: readonly string[]
  variant: Variant
  measurements: Measurement[]
}

export interface AblationResult {
  rounds: number
  shipped: Measurement[]
  copies: { label: string; plugins: readonly string[]; measurements: Measurement[] }[]
}

export async function ablation(opts: BenchOptions, shipped: Variant, log: (s: string) => void): Promise<AblationResult> {
  const everything = PROTECTIONS.flatMap(([, plugins]) => plugins)
  const copies: Copy[] = [...PROTECTIONS, ['all of the above', everything] as const].map(([label, plugins]) => ({
    label,
    plugins,
    variant: gatewayInbound({ without: plugins }),
    measurements: [],
  }))
  const load = (v: Variant) => ({ total: opts.messages, sessions: opts.sessions, perSession: 1, recipients: 1, bytes: opts.bytes, generator: generatorFor(v, 1) })
  const shippedRuns: Measurement[] = []
  try {
    for (const c of copies) {
      log(`ablation: starting inbound without ${c.plugins.join(', ')}`)
      await c.variant.start()
      if (opts.warmup > 0) await measure(c.variant, { ...load(c.variant), total: opts.warmup })
    }
    for (let round = 1; round <= opts.rounds; round++) {
      const m = await measure(shipped, load(shipped))
      shippedRuns.push(m)
      log(`ablation round ${round} shipped: ${m.cpuMsPerMsg.toFixed(2)} CPU ms/msg, ${m.msgPerSec.toFixed(0)} msg/s`)
      for (const c of copies) {
        const mc = await measure(c.variant, load(c.variant))
        c.measurements.push(mc)
        log(`ablation round ${round} without ${c.label}: ${mc.cpuMsPerMsg.toFixed(2)} CPU ms/msg, ${mc.msgPerSec.toFixed(0)} msg/s, delivered ${mc.delivered}/${mc.sent}`)
      }
    }
  } finally {
    await Promise.allSettled(copies.map((c) => c.variant.stop()))
  }
  return { rounds: opts.rounds, shipped: shippedRuns, copies: copies.map(({ label, plugins, measurements }) => ({ label, plugins, measurements })) }
}
