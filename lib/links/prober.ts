// The inbound instance's periodic check of the internal mail servers: every
// interval, each host is probed (probe.ts) and the outcome handed to `record`.
// Runs beside the mail path (a timer, no hook waits on it), one round at a time
// (a slow host cannot pile up probes), and stops at shutdown.

import type { HostPort } from '../net/address'
import { probeSmtp, PROBE_TIMEOUT_MS, type ProbeResult } from './probe'

export interface ProberOptions {
  readonly hosts: readonly HostPort[]
  readonly intervalMs: number
  readonly record: (host: HostPort, result: ProbeResult) => void
  readonly probe?: (host: HostPort, timeoutMs: number) => Promise<ProbeResult>
  readonly timeoutMs?: number
}

export interface Prober {
  stop(): void
}

export function startProber(opts: ProberOptions): Prober {
  const probe = opts.probe ?? probeSmtp
  const timeoutMs = Math.min(opts.timeoutMs ?? PROBE_TIMEOUT_MS, Math.max(opts.intervalMs, 1000))
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const round = async () => {
    const results = await Promise.all(opts.hosts.map(async (h) => [h, await probe(h, timeoutMs)] as const))
    if (stopped) return
    for (const [h, r] of results) opts.record(h, r)
    timer = setTimeout(() => void round(), opts.intervalMs)
    timer.unref()
  }
  // the first round right away: a host that is down shows before the first interval ends
  timer = setTimeout(() => void round(), 0)
  timer.unref()
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
