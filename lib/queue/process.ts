// Finds the running Haraka process of an instance, so `gateway queue flush` can
// ask it (SIGHUP) to retry its queue now. Haraka writes no pid file unless it
// daemonizes; its command line (`haraka -c <instance dir>`, as `gateway start`
// and systemd units run it) identifies it. Linux /proc only.

import fs from 'node:fs'
import path from 'node:path'

interface ProcInfo {
  pid: number
  ppid: number
}

/** The command line of a process as its arguments, or null if it is gone or unreadable. */
function cmdline(pid: number): string[] | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return null
  }
}

function parentPid(pid: number): number {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return 0
  }
}

/** Whether `argv` is Haraka started on `instanceDir` (`... haraka -c DIR`). */
export function isHarakaFor(argv: readonly string[], instanceDir: string): boolean {
  const c = argv.indexOf('-c')
  if (c < 1 || c + 1 >= argv.length) return false
  if (!argv.slice(0, c).some((a) => /(^|\/)haraka(\.js)?$/.test(a))) return false
  return path.resolve(argv[c + 1]!) === path.resolve(instanceDir)
}

/**
 * The pids to signal: Haraka processes of this instance whose parent is not one of
 * them (with `nodes` >= 1 the workers share the master's command line, and only
 * the master passes a flush on to all workers).
 */
export function findInstanceProcesses(instanceDir: string): number[] {
  if (!fs.existsSync('/proc/self/cmdline')) throw new Error('finding the running instance needs Linux /proc')
  const found: ProcInfo[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    const argv = cmdline(pid)
    if (argv && isHarakaFor(argv, instanceDir)) found.push({ pid, ppid: parentPid(pid) })
  }
  const pids = new Set(found.map((p) => p.pid))
  return found.filter((p) => !pids.has(p.ppid)).map((p) => p.pid)
}
