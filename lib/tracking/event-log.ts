// The JSON lines event log (tracking.event_log): every tracking event as one line,
// for log shippers. A file is opened in append mode; lines are collected and
// written together every FLUSH_MS (or at 64 KiB, at close, at process exit): a
// synchronous write per event cost a system call per message and per delivery
// on the mail path (issue 12). A kill -9 can lose the last FLUSH_MS of lines; the
// same events are in Redis. When logrotate moves the file away (the path's inode
// is no longer the one we write to, checked at most every few seconds), it is
// reopened. A write error is logged once per failure streak and never reaches
// the mail path.

import fs from 'node:fs'
import path from 'node:path'

const REOPEN_CHECK_MS = 3000
/** How long a line may wait for the lines after it. */
const FLUSH_MS = 200
/** Written at once when this many bytes wait. */
const FLUSH_BYTES = 64 * 1024

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
  private pending: string[] = []
  private pendingBytes = 0
  private timer: NodeJS.Timeout | undefined
  private readonly onExit = () => this.flush()

  /** `flushEveryMs` 0: every line is written at once (tests). */
  constructor(
    readonly file: string,
    private readonly warn: Warn,
    private readonly checkEveryMs = REOPEN_CHECK_MS,
    private readonly flushEveryMs = FLUSH_MS,
  ) {
    process.once('exit', this.onExit)
  }

  write(line: string): void {
    this.pending.push(`${line}\n`)
    this.pendingBytes += line.length + 1
    if (this.flushEveryMs === 0 || this.pendingBytes >= FLUSH_BYTES) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.flushEveryMs).unref()
  }

  /** Writes the waiting lines now (one system call). */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.pending.length === 0) return
    const text = this.pending.join('')
    this.pending = []
    this.pendingBytes = 0
    try {
      this.ensureOpen()
      fs.writeSync(this.fd!, text)
      this.failing = false
    } catch (err) {
      this.closeFd()
      if (this.failing) return
      this.failing = true
      this.warn(`event log ${this.file}: write failed (${(err as Error).message}); events still go to Redis, retrying with the next event`)
    }
  }

  close(): void {
    this.flush()
    process.removeListener('exit', this.onExit)
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
