// Refusing mail before the disk is full. Haraka's queue writer can report success
// for a message whose write failed with ENOSPC (its 'close' handler renames the
// partial file after the 'error' handler gave up), so the 250 would be a lie.
// Like Postfix's queue_minfree, the gateway answers 452 4.3.1 while free space is
// below a reserve plus room for the message itself: the sender retries, nothing is lost.

import fs from 'node:fs'

/** Bytes available to this process on the file system holding `dir` (unknown: Infinity, never blocks mail). */
export async function freeBytes(dir: string): Promise<number> {
  try {
    const st = await fs.promises.statfs(dir)
    return st.bavail * st.bsize
  } catch {
    return Infinity
  }
}

/** Whether a message of `messageBytes` may be written with `reserveBytes` kept free (twice the message: temp file and headers). */
export function roomFor(free: number, messageBytes: number, reserveBytes: number): boolean {
  return free >= reserveBytes + 2 * messageBytes
}

/** How long one statfs answer is reused, while there is plenty of room (ms). */
export const SAMPLE_REUSE_MS = 1_000
/** Room beyond the reserve below which every message asks the file system again. */
export const SAMPLE_HEADROOM_BYTES = 256 * 1024 * 1024

/**
 * The free-space check at the rate of mail: one statfs per folder and second
 * instead of one per message (a system call on the path of every message that
 * bare Haraka does not make). A reused answer is lowered by what this process
 * accepted since (twice each message, as roomFor counts), and is reused only
 * while it leaves SAMPLE_HEADROOM_BYTES beyond the reserve: near the reserve,
 * every message asks the file system, so the check is exact where it matters.
 */
export class FreeSpaceCheck {
  private readonly samples = new Map<string, { free: number; at: number; accepted: number }>()

  constructor(
    private readonly read: (dir: string) => Promise<number> = freeBytes,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether a message of `messageBytes` fits in `dir` with `reserveBytes` kept free; `free` as known (for the log). */
  async room(dir: string, messageBytes: number, reserveBytes: number): Promise<{ ok: boolean; free: number }> {
    const s = this.samples.get(dir)
    const estimate = s && this.now() - s.at < SAMPLE_REUSE_MS ? s.free - s.accepted : undefined
    if (estimate !== undefined && roomFor(estimate, messageBytes, reserveBytes + SAMPLE_HEADROOM_BYTES)) {
      s!.accepted += 2 * messageBytes
      return { ok: true, free: estimate }
    }
    const free = await this.read(dir)
    const ok = roomFor(free, messageBytes, reserveBytes)
    this.samples.set(dir, { free, at: this.now(), accepted: ok ? 2 * messageBytes : 0 })
    return { ok, free }
  }
}
