// CPU time spent by a server: utime+stime+cutime+cstime from /proc/<pid>/stat,
// summed over the process and its descendants (Haraka's cluster workers,
// Postfix's master and its daemons). Reaped children move into their parent's
// cutime/cstime, so a before/after difference still counts short-lived ones.

import fs from 'node:fs'

import { processTree } from '../../test/helpers/process-memory'

/** Clock ticks per second (USER_HZ): 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100

/** CPU milliseconds used so far by the trees rooted at `pids`. */
export function treeCpuMs(pids: readonly number[]): number {
  let ticks = 0
  for (const root of pids) for (const pid of processTree(root)) ticks += cpuTicks(pid)
  return (ticks * 1000) / TICKS_PER_SECOND
}

function cpuTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may contain spaces: fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  } catch {
    return 0 // exited meanwhile
  }
}
