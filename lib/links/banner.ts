// The `gateway start` banner's word on the internal mail servers: each is probed
// once at startup (short timeout, all at once, while the instances start), and a
// line names every one that does not answer, so an operator sees at once that
// inbound mail will wait in the queue. Hosts that answer add no line.

import { formatHostPort, type HostPort } from '../net/address'
import { probeSmtp, type ProbeResult } from './probe'

export const STARTUP_PROBE_TIMEOUT_MS = 2000

export interface HostProbe {
  readonly host: HostPort
  readonly result: ProbeResult
}

export async function probeInternalHosts(
  hosts: readonly HostPort[],
  probe: (h: HostPort, timeoutMs: number) => Promise<ProbeResult> = probeSmtp,
  timeoutMs = STARTUP_PROBE_TIMEOUT_MS,
): Promise<HostProbe[]> {
  return Promise.all(hosts.map(async (host) => ({ host, result: await probe(host, timeoutMs) })))
}

/** One banner line per internal host that failed its probe (none when all answer). */
export function unreachableLines(probes: readonly HostProbe[]): string[] {
  return probes
    .filter((p) => !p.result.ok)
    .map((p) => {
      // a greeting other than 220 means it answers but refuses to take mail now
      const what = /^\d{3}/.test(p.result.reply) ? `REFUSES MAIL (greeting: ${p.result.reply})` : `UNREACHABLE (${p.result.reply})`
      return `  internal  ${formatHostPort(p.host)} ${what}: inbound mail will wait in the queue`
    })
}
