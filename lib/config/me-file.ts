// Haraka's `me` (config/me): the host name in the greeting, the Received header
// and the HELO of deliveries. Haraka reads it for every connection and every
// delivery. haraka-config keeps a file it has read in memory (and watches it), but
// looks for a missing one on the disk at every read and Haraka then asks the kernel
// for the host name: synchronous system calls per message that a deployment with
// the file does not make. So when the file is missing the gateway writes this
// host's name into it once, at startup, and says so; the operator replaces it
// with the name of the MX/PTR record (README, Deploying in production).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface MeFile {
  /** The name Haraka will use: the file's first line, else the host name. */
  readonly name: string
  /** Set when the file was written now. */
  readonly created?: string
  /** Set when the file is missing and could not be written (read-only config folder): why. */
  readonly problem?: string
}

export function ensureMeFile(configDir: string, hostname: string = os.hostname()): MeFile {
  const file = path.join(configDir, 'me')
  try {
    const first = fs.readFileSync(file, 'utf8').split(/\r?\n/, 1)[0]!.trim()
    return { name: first || hostname }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { name: hostname, problem: `cannot read ${file}: ${(err as Error).message}` }
  }
  try {
    // 'wx': a file another process wrote meanwhile is kept
    fs.writeFileSync(file, `${hostname}\n`, { flag: 'wx', mode: 0o644 })
    return { name: hostname, created: file }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return ensureMeFile(configDir, hostname)
    return { name: hostname, problem: `cannot write ${file}: ${(err as Error).message}` }
  }
}
