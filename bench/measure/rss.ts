// Peak resident memory of a server's process trees, sampled every 200 ms while a
// measurement runs (test/helpers/process-memory.ts reads /proc).

import { treeRss } from '../../test/helpers/process-memory'

export class PeakRss {
  peak = 0
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly pids: readonly number[],
    intervalMs = 200,
  ) {
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
  }

  /** Current summed RSS in bytes. */
  sample(): number {
    const now = this.pids.reduce((sum, pid) => sum + treeRss(pid), 0)
    if (now > this.peak) this.peak = now
    return now
  }

  stop(): number {
    clearInterval(this.timer)
    this.sample()
    return this.peak
  }
}

/** Current summed RSS of the trees rooted at `pids`, in bytes. */
export function currentRss(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + treeRss(pid), 0)
}
