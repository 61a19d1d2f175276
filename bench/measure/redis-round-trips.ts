// Redis round trips, from a MONITOR stream (a separate measurement: MONITOR
// slows Redis down). A client's command outside MULTI/EXEC is one round trip; a
// MULTI ... EXEC block is one (ioredis writes it at once and waits once);
// commands a Lua script issues (source "lua") are none. The gateway's
// per-message paths use no plain pipelines, which this could not tell apart.

import { RedisMonitor } from '../../test/helpers/redis-monitor'

export class RoundTripCounter {
  roundTrips = 0
  commands = 0
  /** Round trips by command name (a transaction counts as EXEC). */
  readonly byCommand = new Map<string, number>()
  private readonly inMulti = new Set<string>()
  private monitor: RedisMonitor | undefined

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    this.monitor = await RedisMonitor.start(this.url, (args, source) => this.see(args, source))
  }

  private see(args: string[], source: string): void {
    const cmd = (args[0] ?? '').toUpperCase()
    // INFO: the harness's own readings of commandstats
    if (source === 'lua' || cmd === 'INFO') return
    this.commands++
    if (cmd === 'MULTI') {
      this.inMulti.add(source)
    } else if (cmd === 'EXEC' || cmd === 'DISCARD') {
      this.inMulti.delete(source)
      this.count(cmd)
    } else if (!this.inMulti.has(source)) {
      this.count(cmd)
    }
  }

  private count(cmd: string): void {
    this.roundTrips++
    this.byCommand.set(cmd, (this.byCommand.get(cmd) ?? 0) + 1)
  }

  /** The most frequent round-trip commands, e.g. "EVALSHA 512, EXEC 30". */
  top(n = 5): string {
    return [...this.byCommand].sort((a, b) => b[1] - a[1]).slice(0, n).map(([c, k]) => `${c} ${k}`).join(', ')
  }

  /** Resets the counts (after the warm-up). */
  reset(): void {
    this.roundTrips = 0
    this.commands = 0
    this.byCommand.clear()
  }

  stop(): void {
    const monitor = this.monitor
    this.monitor = undefined
    monitor?.stop()
  }
}
