// Which DKIM key folders exist under an instance's config/dkim/, answered from
// memory. Every outbound message asks for each domain it could be signed for; a
// stat() per domain per message was synchronous disk work bare Haraka does not do,
// and for a domain without a key it also threw (and caught) an ENOENT error per
// message (issue 12: ~35 us of each relayed message's CPU in `npm run bench`).
//
// Answers, found or not, are kept until something is created, removed or renamed
// directly in config/dkim/ (or in config/ while config/dkim/ does not exist): an
// inotify watch (fs.watch) then forgets them all. So `gateway dkim keygen`, which
// creates config/dkim/<domain>/, is seen by the next message without a restart, and
// a removed folder no longer counts. Changes inside a domain's folder (its key
// files) are not watched: the folder still exists, and haraka-plugin-dkim reads
// and reports on the files itself. Where no watch can be set up (inotify limits),
// nothing is remembered and every lookup asks the disk, as before: never a stale
// "no key" that would leave signable mail unsigned.

import fs from 'node:fs'
import path from 'node:path'

/** Answers kept at most (a Map keyed by paths built from header domains: no prototype names; cleared if it runs away). */
const MAX_ANSWERS = 10_000
/** After a watch failed to set up, how long lookups go to the disk before trying again (ms). */
const WATCH_RETRY_MS = 5_000

export class KeyDirIndex {
  private readonly answers = new Map<string, boolean>()
  private watcher: fs.FSWatcher | undefined
  private failedAt = -Infinity

  constructor(private readonly configDir: string) {}

  /** Whether `dir` (a folder under config/dkim/) exists. */
  has(dir: string): boolean {
    const watched = this.watch()
    const known = watched ? this.answers.get(dir) : undefined
    if (known !== undefined) return known
    // no exception for the usual answer "not there"
    const found = fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false
    if (watched) {
      if (this.answers.size >= MAX_ANSWERS) this.answers.clear()
      this.answers.set(dir, found)
    }
    return found
  }

  /** Stops watching (tests, shutdown); later lookups set the watch up again. */
  close(): void {
    this.watcher?.close()
    this.watcher = undefined
    this.answers.clear()
  }

  /** True while a watch covers config/dkim/: set up on first use and again after each change. */
  private watch(): boolean {
    if (this.watcher) return true
    const now = Date.now()
    if (now - this.failedAt >= 0 && now - this.failedAt < WATCH_RETRY_MS) return false
    const dkim = path.join(this.configDir, 'dkim')
    // config/dkim/ itself, or config/ until it exists (a change there may be its creation)
    const target = fs.statSync(dkim, { throwIfNoEntry: false })?.isDirectory() ? dkim : this.configDir
    try {
      // persistent: false: a watch never keeps a stopping instance alive
      const watcher = fs.watch(target, { persistent: false }, () => this.forget(watcher))
      watcher.on('error', () => this.forget(watcher))
      this.watcher = watcher
      this.answers.clear() // anything learnt before this watch may be stale
      return true
    } catch {
      this.failedAt = now
      return false
    }
  }

  /** Something changed: forget every answer; the next lookup watches the right folder again. */
  private forget(watcher: fs.FSWatcher): void {
    watcher.close()
    if (this.watcher === watcher) this.watcher = undefined
    this.answers.clear()
  }
}
