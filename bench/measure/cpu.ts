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

/**
 * CPU milliseconds used so far by the main thread of `pid` alone (its task whose
 * id is the pid): no libuv pool, GC helper or other threads. NaN if it is gone.
 */
export function mainThreadCpuMs(pid: number): number {
  const stat = statFields(`/proc/${pid}/task/${pid}/stat`)
  return stat ? ((Number(stat[11]) + Number(stat[12])) * 1000) / TICKS_PER_SECOND : NaN
}

function cpuTicks(pid: number): number {
  const fields = statFields(`/proc/${pid}/stat`)
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
  return fields ? Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) : 0
}

/** The fields of a /proc stat file from field 3 (state) on, or undefined if the process exited meanwhile. */
function statFields(file: string): string[] | undefined {
  try {
    const stat = fs.readFileSync(file, 'utf8')
    // the command name (field 2) may contain spaces: fields after its closing parenthesis
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}
