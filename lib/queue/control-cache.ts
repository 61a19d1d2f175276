// What the gateway-queue plugin knows of the queue-control files (held domains, a
// pending single-domain flush) without reading them at every delivery (issue 12).
// Each file is a ChangedFile (lib/config/changed-file.ts): its folder is watched,
// so a `gateway queue hold` is seen at once on this machine, and without a change
// event it is stat()ed at most once a second (file systems without events, e.g. a
// queue-control folder shared by nodes over NFS). A flush must act on what the
// administrator wrote just before it, so a flush signal (SIGHUP in a single
// process, the master's flush message in a cluster worker) makes the next
// delivery re-read both files: see `refresh()` and plugins/gateway-queue.

import fs from 'node:fs'

import { ChangedFile, type ChangedFileOptions } from '../config/changed-file'
import { FLUSH_SCOPE_TTL_MS, parseDeleted, parseFlushScope, parseHeld, type FlushScope, type QueueControl } from './control'

/** One control file's parsed content, re-parsed only when the file changed. */
class CachedFile<T> {
  private source: ChangedFile
  private value: T

  constructor(
    private readonly file: string,
    private readonly parse: (text: string | null) => T,
    private readonly opts: ChangedFileOptions,
  ) {
    this.source = new ChangedFile(file, opts)
    this.value = parse(null)
  }

  get(): T {
    const text = this.source.readIfChanged()
    if (text === undefined) return this.value
    try {
      this.value = this.parse(text)
    } catch (err) {
      this.refresh() // read again at the next use, not only after the next change
      throw err
    }
    return this.value
  }

  /** The next get() stats and reads the file whatever the watch or the clock say. */
  refresh(): void {
    this.source.close()
    this.source = new ChangedFile(this.file, this.opts)
  }

  close(): void {
    this.source.close()
  }
}

export class QueueControlCache {
  private readonly held: CachedFile<ReadonlySet<string>>
  private readonly scope: CachedFile<FlushScope | null>
  private readonly deleted: CachedFile<ReadonlySet<string>>

  /** `warn` is told when the folder cannot be created: without it there is no watch, and every use stats. */
  constructor(control: QueueControl, warn: (message: string) => void, opts: ChangedFileOptions = {}) {
    // the folder must exist for the watch (the CLI creates it on first use)
    try {
      fs.mkdirSync(control.dir, { recursive: true })
    } catch (err) {
      warn(`cannot create ${control.dir} (${(err as Error).message}): holds are checked at every delivery`)
    }
    this.held = new CachedFile(control.heldFile, (text) => parseHeld(text ?? ''), opts)
    this.scope = new CachedFile(control.scopeFile, (text) => (text === null ? null : parseFlushScope(text, control.scopeFile)), opts)
    this.deleted = new CachedFile(control.deletedFile, (text) => parseDeleted(text ?? ''), opts)
  }

  /** Ids of messages `gateway queue delete` removed (recently). */
  deletedIds(): ReadonlySet<string> {
    return this.deleted.get()
  }

  /** Held domains (lower case). Throws when the file exists but cannot be read or parsed. */
  heldDomains(): ReadonlySet<string> {
    return this.held.get()
  }

  /** The flush scope in force at `now`, or null (none, or older than FLUSH_SCOPE_TTL_MS). */
  flushScope(now = Date.now()): FlushScope | null {
    const s = this.scope.get()
    return s && now - s.at <= FLUSH_SCOPE_TTL_MS ? s : null
  }

  /** A flush was asked for: the deliveries it starts must see the files as they are now. */
  refresh(): void {
    this.held.refresh()
    this.scope.refresh()
    this.deleted.refresh()
  }

  close(): void {
    this.held.close()
    this.scope.close()
    this.deleted.close()
  }
}
