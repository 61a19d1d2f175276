// Mail and runtime state are the operator's alone: queued and quarantined
// messages, the Redis password, the event log. Every gateway process makes the
// files it (and Haraka inside it) creates owner-only, whatever umask it was
// started with (a shell's 022 made queue files 0644: any local user could read
// queued mail), and narrows folders an earlier version created with a wider mode
// instead of refusing to start: an upgrade must not stop mail, and a folder that
// no one else can enter protects the files inside it whatever their modes.

import fs from 'node:fs'

/** Files 0600, folders 0700 for everything created from now on by this process and its children. */
export const PRIVATE_UMASK = 0o077

export function usePrivateUmask(): void {
  process.umask(PRIVATE_UMASK)
}

/**
 * Narrows each existing folder of `dirs` that group or others may use to 0700.
 * Returns one line per folder narrowed (for a NOTICE); a missing folder is
 * skipped (it is created owner-only later), one owned by another user left alone.
 */
export function narrowPrivateDirs(dirs: readonly string[]): string[] {
  const lines: string[] = []
  for (const dir of new Set(dirs)) {
    let st: fs.Stats
    try {
      st = fs.statSync(dir)
    } catch {
      continue
    }
    if (!st.isDirectory() || (st.mode & 0o077) === 0) continue
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) continue
    fs.chmodSync(dir, 0o700)
    lines.push(`${dir} was mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: narrowed to 0700 (owner only)`)
  }
  return lines
}
