// The age of the oldest message in a delivery queue folder, from the arrival time
// Haraka writes into every queue file name (qfile.ts). Haraka keeps no such figure
// (its queues hold only per-process task lists), and the folder is the one truth
// every worker process of an instance shares. One readdir, no file is opened: read
// once a minute by the queue sampler and at each Prometheus scrape.

import fs from 'node:fs/promises'

import { parseQueueFileName } from './qfile'

/** Arrival time (ms) of the oldest queued message in `dir`; null when none is queued (or the folder does not exist yet). */
export async function oldestArrivalMs(dir: string): Promise<number | null> {
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  let oldest: number | null = null
  for (const name of names) {
    const parsed = parseQueueFileName(name) // temp and error files are not waiting messages
    if (parsed && (oldest === null || parsed.arrival < oldest)) oldest = parsed.arrival
  }
  return oldest
}

/** Whole seconds the oldest message of `dir` has waited at `nowMs` (0 when the queue is empty). */
export async function oldestAgeSeconds(dir: string, nowMs: number): Promise<number> {
  const arrival = await oldestArrivalMs(dir)
  return arrival === null ? 0 : Math.max(0, Math.floor((nowMs - arrival) / 1000))
}
