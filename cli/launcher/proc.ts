// Small process and port helpers shared by the private engines (rspamd, clamd):
// finding an installed binary, picking a free loopback port, killing a process group.

import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

/**
 * The engine binary to run: the override variable when set (even if it names a
 * missing file: the operator, or a test, asked for exactly that one), else the
 * first of `names` found on PATH or in the usual Debian folders. undefined = not installed.
 */
export function findBinary(overrideVar: string, names: readonly string[]): string | undefined {
  const override = process.env[overrideVar]
  if (override) return isExecutable(override) ? override : undefined
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name)
      if (isExecutable(candidate)) return candidate
    }
  }
  return undefined
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    const st = fs.statSync(file)
    return st.isFile() && (st.mode & 0o111) !== 0 // root passes access(X_OK) more easily
  } catch {
    return false
  }
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

/** SIGKILL to a whole process group (an engine started `detached` and its workers). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
