// PIDs of processes we started but do not hold a handle to (rspamd and clamd are
// spawned inside their launcher classes): found by a unique path, their private
// temporary folder, in their command line or among their open files (rspamd
// renames its processes, "rspamd: main process", but keeps its log open there).
// Only the roots are returned, since descendants are counted with them.

import fs from 'node:fs'

export function pidsUsing(fragment: string): number[] {
  const matches = new Map<number, number>() // pid -> parent pid
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (!cmdline.includes(fragment) && !holdsFileUnder(entry, fragment)) continue
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      matches.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // exited meanwhile
    }
  }
  return [...matches].filter(([, parent]) => !matches.has(parent)).map(([pid]) => pid)
}

function holdsFileUnder(pid: string, dir: string): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir)
      } catch {
        return false
      }
    })
  } catch {
    return false
  }
}
