// The JSON lines event log (tracking.event_log): every tracking event as one line,
// for log shippers. A file is opened in append mode and written one line per
// write; when logrotate moves it away (the path's inode is no longer the one we
// write to, checked at most every few seconds), it is reopened. A write error is
// logged once per failure streak and never reaches the mail path.

import fs from 'node:fs'
import path from 'node:path'

const REOPEN_CHECK_MS = 3000

export interface EventLog {
  write(line: string): void
  close(): void
}

type Warn = (message: string) => void

/** "off" -> nothing, "stdout" -> standard output, anything else -> that file (already resolved). */
export function openEventLog(target: string, warn: Warn): EventLog {
  if (target === 'off' || target === '') return { write() {}, close() {} }
  if (target === 'stdout') return { write: (line) => void process.stdout.write(`${line}\n`), close() {} }
  return new FileEventLog(target, warn)
}

export class FileEventLog implements EventLog {
  private fd: number | undefined
  private ino: number | undefined
  private checkedAt = 0
  private failing = false

  constructor(
    readonly file: string,
    private readonly warn: Warn,
    private readonly checkEveryMs = REOPEN_CHECK_MS,
  ) {}

  write(line: string): void {
    try {
      this.ensureOpen()
      fs.writeSync(this.fd!, `${line}\n`)
      this.failing = false
    } catch (err) {
      this.closeFd()
      if (this.failing) return
      this.failing = true
      this.warn(`event log ${this.file}: write failed (${(err as Error).message}); events still go to Redis, retrying with the next event`)
    }
  }

  close(): void {
    this.closeFd()
  }

  private ensureOpen(): void {
    const now = Date.now()
    if (this.fd !== undefined && now - this.checkedAt < this.checkEveryMs) return
    this.checkedAt = now
    if (this.fd !== undefined) {
      let current: number | undefined
      try {
        current = fs.statSync(this.file).ino
      } catch {
        current = undefined // moved away, not yet recreated
      }
      if (current === this.ino) return
      this.closeFd()
    }
    // owner-only: every line names senders and recipients
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 })
    this.fd = fs.openSync(this.file, 'a', 0o600)
    this.ino = fs.fstatSync(this.fd).ino
  }

  private closeFd(): void {
    if (this.fd === undefined) return
    try {
      fs.closeSync(this.fd)
    } catch {
      // already gone
    }
    this.fd = undefined
  }
}
