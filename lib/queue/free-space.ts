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
