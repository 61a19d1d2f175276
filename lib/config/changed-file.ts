// A data file administrators edit while the gateway runs (users, sender scopes,
// valid recipients): checked on use, re-read only when it changed on disk, so a
// CLI change or an edit takes effect without a restart.
//
// Checked on use, but not with a stat() at every use: that is a synchronous
// system call on the path of every message (issue 12). The file's folder is
// watched (inotify on Linux; the folder, so a replace by rename is seen too): a
// change event makes the next use stat and re-read at once. Without an event the
// file is stat()ed at most every `recheckMs` (1 s), which also covers file
// systems that report no events (NFS) and a watch that failed or was closed.

import fs from 'node:fs'
import path from 'node:path'

/** Longest a use goes without a stat() while no change event arrived (ms). */
export const RECHECK_MS = 1_000

export interface ChangedFileOptions {
  /** 0: stat() at every use, no watch (the old behaviour; tests that write and read in one tick). */
  recheckMs?: number
  /** Monotonic ms (tests). */
  now?: () => number
}

export class ChangedFile {
  private stamp = ''
  private checkedAt = -Infinity
  /** Set by the folder watch when something in it changed; cleared by the stat that follows. */
  private changed = true
  private watcher: fs.FSWatcher | undefined
  private readonly recheckMs: number
  private readonly now: () => number

  constructor(
    readonly file: string,
    opts: ChangedFileOptions = {},
  ) {
    this.recheckMs = opts.recheckMs ?? RECHECK_MS
    this.now = opts.now ?? (() => performance.now())
    if (this.recheckMs > 0) this.watch()
  }

  /**
   * The file's text if it changed since the last call, `null` if it does not
   * exist (any more), `undefined` if nothing changed. A file that exists but
   * cannot be read throws: the caller must fail closed, not act as if it were
   * absent (an unreadable list of restrictions is not "no restrictions").
   */
  readIfChanged(): string | null | undefined {
    const now = this.now()
    if (this.watcher && !this.changed && now - this.checkedAt < this.recheckMs) return undefined
    this.changed = false
    this.checkedAt = now
    let stamp = 'missing'
    try {
      const st = fs.statSync(this.file)
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') stamp = `error:${(err as NodeJS.ErrnoException).code}`
    }
    if (stamp.startsWith('error:')) this.changed = true // ask again at the next use
    if (stamp === this.stamp && !stamp.startsWith('error:')) return undefined
    this.stamp = stamp
    if (stamp === 'missing') return null
    try {
      return fs.readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null // removed between stat and read
      this.stamp = '' // try again next time
      this.changed = true
      throw new Error(`cannot read ${this.file}: ${(err as Error).message}`)
    }
  }

  /** Stops watching (tests; a process that exits needs nothing: the watch does not keep it alive). */
  close(): void {
    this.watcher?.close()
    this.watcher = undefined
  }

  private watch(): void {
    const name = path.basename(this.file)
    try {
      this.watcher = fs.watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed.toString() === name) this.changed = true
      })
      // an error ends the watch: every use stats again, as before
      this.watcher.on('error', () => this.close())
    } catch {
      this.watcher = undefined // no such folder (yet), or no watch available: stat at every use
    }
  }
}
