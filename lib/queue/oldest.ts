// The age of the oldest message in a delivery queue folder, from the arrival time
// Haraka writes into every queue file name (qfile.ts), and the number of queued
// messages. Haraka keeps no such instance-wide figures (its queues hold only
// per-process task lists: with smtp.ini nodes=N each worker counts its own mail
// and the cluster master none), and the folder is the one truth every worker
// process of an instance shares. One readdir, no file is opened: read once a
// minute by the queue sampler and at each Prometheus scrape.

import fs from 'node:fs/promises'

import { parseQueueFileName } from './qfile'

/** Messages queued in `dir` and the arrival time (ms) of the oldest (null: none, or no folder yet). */
export async function scanQueueFolder(dir: string): Promise<{ count: number; oldestArrival: number | null }> {
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { count: 0, oldestArrival: null }
    throw err
  }
  let count = 0
  let oldest: number | null = null
  for (const name of names) {
    const parsed = parseQueueFileName(name) // temp and error files are not waiting messages
    if (!parsed) continue
    count++
    if (oldest === null || parsed.arrival < oldest) oldest = parsed.arrival
  }
  return { count, oldestArrival: oldest }
}

/** Arrival time (ms) of the oldest queued message in `dir`; null when none is queued (or the folder does not exist yet). */
export async function oldestArrivalMs(dir: string): Promise<number | null> {
  return (await scanQueueFolder(dir)).oldestArrival
}

/** Messages queued in `dir`, whichever process of the instance queued them (0 for a missing folder). */
export async function queuedCount(dir: string): Promise<number> {
  return (await scanQueueFolder(dir)).count
}

/** Whole seconds the oldest message of `dir` has waited at `nowMs` (0 when the queue is empty). */
export async function oldestAgeSeconds(dir: string, nowMs: number): Promise<number> {
  const arrival = await oldestArrivalMs(dir)
  return arrival === null ? 0 : Math.max(0, Math.floor((nowMs - arrival) / 1000))
}
