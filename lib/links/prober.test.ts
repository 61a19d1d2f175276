// Unit tests for the periodic probe loop: a first round at once, one round per
// interval (never overlapping), nothing recorded after stop().
import { describe, expect, it, vi } from 'vitest'

import type { ProbeResult } from './probe'
import { startProber } from './prober'

describe('startProber', () => {
  it('probes every host at once, then each interval, and stops', async () => {
    vi.useFakeTimers()
    try {
      const recorded: string[] = []
      let inFlight = 0
      let maxInFlight = 0
      const probe = async (h: { host: string; port: number }): Promise<ProbeResult> => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise((r) => setTimeout(r, 300))
        inFlight--
        return h.port === 25 ? { ok: true, reply: '220 ok' } : { ok: false, reply: 'connect ECONNREFUSED' }
      }
      const prober = startProber({
        hosts: [
          { host: 'a', port: 25 },
          { host: 'b', port: 26 },
        ],
        intervalMs: 1000,
        probe,
        record: (h, r) => recorded.push(`${h.host}:${r.ok ? 'ok' : r.reply}`),
      })
      await vi.advanceTimersByTimeAsync(400)
      expect(recorded).toEqual(['a:ok', 'b:connect ECONNREFUSED'])
      await vi.advanceTimersByTimeAsync(1300)
      expect(recorded).toHaveLength(4)
      expect(maxInFlight).toBe(2) // both hosts at once, one round at a time
      prober.stop()
      await vi.advanceTimersByTimeAsync(5000)
      expect(recorded).toHaveLength(4)
    } finally {
      vi.useRealTimers()
    }
  })
})
