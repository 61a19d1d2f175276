// The quarantine: messages a check decided to hold are kept on the gateway, one
// "<id>.eml" (the message as it would have been delivered) plus "<id>.json"
// (envelope and why) per message, written durably before the sender gets its 250.
// Administrators list, inspect, release (back into the inbound delivery queue) or
// delete them with `gateway quarantine`. A message being released has its
// "<id>.json" renamed to "<id>.json.releasing": one rename decides which of two
// concurrent releases gets it, and list/show/delete no longer see it meanwhile.

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'

export interface QuarantineEntry {
  id: string
  /** ISO time the message was quarantined. */
  at: string
  from: string
  to: string[]
  /** The check and result that quarantined it. */
  check: string
  result: string
  size: number
  remoteIp: string
  helo: string
  messageId: string
  subject: string
}

/** Written into "<id>.json.releasing" just before the message is handed to the delivery queue. */
export interface ReleaseMark {
  /** The Haraka transaction UUID the message is queued under (queue files carry "<uuid>.<n>"). */
  uuid: string
  /** ISO time of the release. */
  at: string
  /** Who asked for it. */
  by: string
}

export interface Held {
  entry: QuarantineEntry
  message: Buffer
}

/** A release that did not finish (the instance stopped in between): see QuarantineStore.interrupted. */
export interface InterruptedRelease {
  id: string
  entry: QuarantineEntry
  /** Absent: the instance stopped before handing the message to the queue. */
  mark: ReleaseMark | undefined
}

const ID = /^[A-Za-z0-9_-]{8,64}$/
const RELEASING = '.json.releasing'

export class QuarantineStore {
  constructor(readonly dir: string) {}

  /** Stores a message durably (fsync, then rename into place); returns its id. */
  async put(meta: Omit<QuarantineEntry, 'id' | 'at' | 'size'>, message: Readable): Promise<QuarantineEntry> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 }) // owner-only: held messages
    const chunks: Buffer[] = []
    for await (const chunk of message) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
    const data = Buffer.concat(chunks)
    const entry: QuarantineEntry = { id: `${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`, at: new Date().toISOString(), size: data.length, ...meta }
    await writeDurably(this.file(entry.id, 'eml'), data)
    await writeDurably(this.file(entry.id, 'json'), Buffer.from(`${JSON.stringify(entry, null, 2)}\n`))
    return entry
  }

  list(): QuarantineEntry[] {
    if (!fs.existsSync(this.dir)) return []
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as QuarantineEntry)
      .sort((a, b) => a.at.localeCompare(b.at))
  }

  get(id: string): Held | undefined {
    if (!ID.test(id) || !fs.existsSync(this.file(id, 'json'))) return undefined
    return {
      entry: JSON.parse(fs.readFileSync(this.file(id, 'json'), 'utf8')) as QuarantineEntry,
      message: fs.readFileSync(this.file(id, 'eml')),
    }
  }

  // ---- release (carried out by the running inbound instance) ----

  /**
   * Takes a message out of view for a release: exactly one of several concurrent
   * claimants gets it. Undefined when there is no such message (never was,
   * deleted, released, or being released right now).
   */
  claim(id: string): Held | undefined {
    if (!ID.test(id)) return undefined
    try {
      fs.renameSync(this.file(id, 'json'), this.releasing(id))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    try {
      return { entry: this.readReleasing(id).entry, message: fs.readFileSync(this.file(id, 'eml')) }
    } catch (err) {
      fs.renameSync(this.releasing(id), this.file(id, 'json'))
      throw err
    }
  }

  /** Records, durably, the queue transaction a claimed message is about to be handed to. */
  async markReleasing(id: string, mark: ReleaseMark): Promise<void> {
    const { entry } = this.readReleasing(id)
    await writeDurably(this.releasing(id), Buffer.from(`${JSON.stringify({ ...entry, release: mark }, null, 2)}\n`))
  }

  /** The message is in the delivery queue: remove it from the quarantine. */
  async finishRelease(id: string): Promise<void> {
    // metadata first: a stop in between leaves an orphan .eml (see removeOrphans), never an entry without its message
    await fs.promises.rm(this.releasing(id), { force: true })
    await fs.promises.rm(this.file(id, 'eml'), { force: true })
    await syncDir(this.dir)
  }

  /** The release did not happen: the message is quarantined again, as it was. */
  async restore(id: string): Promise<void> {
    const { entry } = this.readReleasing(id)
    await writeDurably(this.file(id, 'json'), Buffer.from(`${JSON.stringify(entry, null, 2)}\n`))
    await fs.promises.rm(this.releasing(id), { force: true })
  }

  /** Releases left unfinished when the instance stopped; the caller finishes or restores each. */
  interrupted(): InterruptedRelease[] {
    if (!fs.existsSync(this.dir)) return []
    const out: InterruptedRelease[] = []
    for (const f of fs.readdirSync(this.dir)) {
      if (!f.endsWith(RELEASING)) continue
      const id = f.slice(0, -RELEASING.length)
      if (!ID.test(id)) continue
      if (fs.existsSync(this.file(id, 'json'))) {
        // restore() wrote the metadata back and stopped before removing this copy
        fs.rmSync(this.releasing(id), { force: true })
        continue
      }
      out.push({ id, ...this.readReleasing(id) })
    }
    return out
  }

  /**
   * Removes messages without metadata, left by a stop during put() (the sender got
   * no 250 and retries) or during finishRelease() (queued already). Call only while
   * nothing is being quarantined: at startup, before the instance accepts mail.
   */
  removeOrphans(): string[] {
    if (!fs.existsSync(this.dir)) return []
    const names = new Set(fs.readdirSync(this.dir))
    const orphans = [...names]
      .filter((f) => f.endsWith('.eml'))
      .map((f) => f.slice(0, -'.eml'.length))
      .filter((id) => ID.test(id) && !names.has(`${id}.json`) && !names.has(`${id}${RELEASING}`))
    for (const id of orphans) fs.rmSync(this.file(id, 'eml'), { force: true })
    return orphans
  }

  private readReleasing(id: string): { entry: QuarantineEntry; mark: ReleaseMark | undefined } {
    const { release, ...entry } = JSON.parse(fs.readFileSync(this.releasing(id), 'utf8')) as QuarantineEntry & { release?: ReleaseMark }
    return { entry, mark: release }
  }

  private releasing(id: string): string {
    return path.join(this.dir, `${id}${RELEASING}`)
  }

  delete(id: string): boolean {
    if (!ID.test(id)) return false
    try {
      fs.rmSync(this.file(id, 'json'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false // never there, or claimed by a release
      throw err
    }
    fs.rmSync(this.file(id, 'eml'), { force: true })
    return true
  }

  private file(id: string, ext: 'eml' | 'json'): string {
    return path.join(this.dir, `${id}.${ext}`)
  }
}

async function writeDurably(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp`
  const fh = await fs.promises.open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (err) {
    await fh.close().catch(() => {})
    await fs.promises.rm(tmp, { force: true }) // a full disk must not keep half a message forever
    throw err
  }
  await fh.close()
  await fs.promises.rename(tmp, file)
  // the rename itself is durable only once the directory is synced
  await syncDir(path.dirname(file))
}

async function syncDir(dirPath: string): Promise<void> {
  const dir = await fs.promises.open(dirPath, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
