// Resident memory of a running process and all its descendants (Haraka's cluster
// master and workers), read from /proc: what the machine really spends on an
// instance, sampled while a test loads it.

import fs from 'node:fs'

/** The pid and every descendant's pid (Linux /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const all = [pid]
  for (let i = 0; i < all.length; i++) {
    const p = all[i]!
    let tasks: string[] = []
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`)
    } catch {
      continue // exited meanwhile
    }
    for (const tid of tasks) {
      try {
        for (const child of fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').split(/\s+/)) if (child) all.push(Number(child))
      } catch {
        // thread gone
      }
    }
  }
  return all
}

/** VmRSS of one process in bytes (0 once it has exited). */
function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** Summed resident memory of `pid` and its descendants, in bytes. */
export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + rssOf(p), 0)
}

/** Summed resident memory of the trees rooted at `pids`, in bytes. */
export function treesRss(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + treeRss(pid), 0)
}

/** Samples the summed RSS of the trees at `pids` until stopped; `peak` is the highest reading seen. */
export class RssSampler {
  peak = 0
  private readonly timer: NodeJS.Timeout
  private readonly pids: readonly number[]

  constructor(pids: number | readonly number[], intervalMs = 50) {
    this.pids = typeof pids === 'number' ? [pids] : pids
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
  }

  sample(): number {
    const now = treesRss(this.pids)
    if (now > this.peak) this.peak = now
    return now
  }

  stop(): number {
    clearInterval(this.timer)
    this.sample()
    return this.peak
  }
}
