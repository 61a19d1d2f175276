// The queue-control folder of an instance (<instance>/queue-control/): what the
// `gateway queue` command and the gateway-queue plugin share on one node. Held
// domains, a pending single-domain flush and the last error of each queued
// message live here, beside (not inside) Haraka's queue folder, whose file names
// Haraka parses. Every write is a temporary file renamed into place, so the
// running instance never reads half a file.

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'

import { parseDomainName } from '../address/domain'

/** Haraka's queue folder: the file config/queue_dir if present, else <instance>/queue (outbound/queue.js). */
export function queueDir(instanceDir: string): string {
  const override = path.join(instanceDir, 'config', 'queue_dir')
  if (fs.existsSync(override)) {
    const line = fs
      .readFileSync(override, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#'))
    if (line) return path.resolve(instanceDir, line)
  }
  return path.join(instanceDir, 'queue')
}

export function controlDir(instanceDir: string): string {
  return path.join(instanceDir, 'queue-control')
}

/** How long a single-domain flush request applies to the retries it triggers. */
export const FLUSH_SCOPE_TTL_MS = 60_000

export interface FlushScope {
  readonly domain: string
  readonly at: number
}

export interface LastError {
  readonly error: string
  readonly at: number
  readonly attempts: number
}

export class QueueControl {
  readonly dir: string

  constructor(instanceDir: string) {
    this.dir = controlDir(instanceDir)
  }

  get heldFile(): string {
    return path.join(this.dir, 'held-domains')
  }

  get scopeFile(): string {
    return path.join(this.dir, 'flush-scope.json')
  }

  /** Ids `gateway queue delete` removed, one "<id> <ms>" line each (read by the plugin through QueueControlCache). */
  get deletedFile(): string {
    return path.join(this.dir, 'deleted')
  }

  private errorFile(id: string): string {
    if (!/^[a-z0-9]+$/i.test(id)) throw new Error(`invalid queue id ${JSON.stringify(id)}`)
    return path.join(this.dir, 'last-error', `${id}.json`)
  }

  // ---- deleted messages: the plugin drops them at their next attempt ----

  /**
   * Remembers that `id` is being deleted, before its file goes: the plugin then
   * checks the file of that message only, not of every delivery. Appended (two
   * deletes at once cannot lose one); entries older than DELETED_KEEP_MS are
   * dropped when the file has grown past DELETED_REWRITE_BYTES.
   */
  recordDeleted(id: string, now = Date.now()): void {
    if (!/^[a-z0-9]+$/i.test(id)) throw new Error(`invalid queue id ${JSON.stringify(id)}`)
    fs.mkdirSync(this.dir, { recursive: true })
    let size = 0
    try {
      size = fs.statSync(this.deletedFile).size
    } catch {
      // not there yet
    }
    if (size > DELETED_REWRITE_BYTES) {
      const recent = readOptional(this.deletedFile)
        .split('\n')
        .filter((line) => now - Number(line.split(' ')[1]) < DELETED_KEEP_MS)
      writeAtomic(this.deletedFile, recent.map((l) => `${l}\n`).join(''))
    }
    fs.appendFileSync(this.deletedFile, `${id} ${now}\n`)
  }

  // ---- held domains (the plugin reads them through QueueControlCache, control-cache.ts) ----

  heldDomains(): Set<string> {
    return parseHeld(readOptional(this.heldFile))
  }

  async heldDomainsAsync(): Promise<Set<string>> {
    try {
      return parseHeld(await fsp.readFile(this.heldFile, 'utf8'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set()
      throw err
    }
  }

  /** Adds (true) or removes (false) a domain; returns whether the list changed. */
  setHeld(domain: string, held: boolean): boolean {
    const d = parseDomainName(domain)
    const all = this.heldDomains()
    if (all.has(d) === held) return false
    if (held) all.add(d)
    else all.delete(d)
    const body = [...all].sort().map((x) => `${x}\n`).join('')
    writeAtomic(this.heldFile, `# domains held by \`gateway queue hold\`: not attempted until released\n${body}`)
    return true
  }

  // ---- single-domain flush ----

  requestScopedFlush(domain: string, now = Date.now()): void {
    const scope: FlushScope = { domain: parseDomainName(domain), at: now }
    writeAtomic(this.scopeFile, JSON.stringify(scope))
  }

  clearScopedFlush(): void {
    fs.rmSync(this.scopeFile, { force: true })
  }

  /** The flush scope in force, or null (none, or older than FLUSH_SCOPE_TTL_MS). */
  async flushScope(now = Date.now()): Promise<FlushScope | null> {
    let text: string
    try {
      text = await fsp.readFile(this.scopeFile, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
    const scope = parseFlushScope(text, this.scopeFile)
    return now - scope.at <= FLUSH_SCOPE_TTL_MS ? scope : null
  }

  // ---- last error per queued message ----

  async recordError(id: string, entry: LastError): Promise<void> {
    const file = this.errorFile(id)
    await fsp.mkdir(path.dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    await fsp.writeFile(tmp, JSON.stringify(entry))
    await fsp.rename(tmp, file)
  }

  lastError(id: string): LastError | null {
    const text = readOptional(this.errorFile(id))
    if (text === '') return null
    try {
      return JSON.parse(text) as LastError
    } catch {
      return null // being replaced right now: the next listing shows it
    }
  }

  /** Ids that have an error record now (one readdir: the plugin's index at startup). */
  recordedErrorIds(): Set<string> {
    try {
      return new Set(
        fs
          .readdirSync(path.join(this.dir, 'last-error'))
          .filter((n) => n.endsWith('.json'))
          .map((n) => n.slice(0, -'.json'.length)),
      )
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set()
      throw err
    }
  }

  async forgetError(id: string): Promise<void> {
    await fsp.rm(this.errorFile(id), { force: true })
  }

  forgetErrorSync(id: string): void {
    fs.rmSync(this.errorFile(id), { force: true })
  }

  /** Removes error records of messages no longer queued (after a crash or a double bounce). */
  async pruneErrors(queuedIds: ReadonlySet<string>): Promise<number> {
    let names: string[]
    try {
      names = await fsp.readdir(path.join(this.dir, 'last-error'))
    } catch {
      return 0
    }
    let removed = 0
    for (const n of names) {
      const id = n.replace(/\.json$/, '')
      if (n.endsWith('.json') && !queuedIds.has(id)) {
        await fsp.rm(path.join(this.dir, 'last-error', n), { force: true })
        removed++
      }
    }
    return removed
  }
}

/** The flush-scope file's content; throws naming `file` when it is not one. */
export function parseFlushScope(text: string, file: string): FlushScope {
  const scope = JSON.parse(text) as Partial<FlushScope>
  if (typeof scope.domain !== 'string' || typeof scope.at !== 'number') throw new Error(`${file}: not a flush scope`)
  return { domain: scope.domain, at: scope.at }
}

/** How long a deletion is remembered: longer than a message stays queued (outbound.ini temp_fail_intervals, about 5 days by default). */
export const DELETED_KEEP_MS = 14 * 86_400_000
const DELETED_REWRITE_BYTES = 64 * 1024

/** The ids in a deleted file's text (malformed lines are skipped). */
export function parseDeleted(text: string): Set<string> {
  const ids = new Set<string>()
  for (const line of text.split('\n')) {
    const id = /^([a-z0-9]+) \d+$/i.exec(line.trim())?.[1]
    if (id) ids.add(id)
  }
  return ids
}

export function parseHeld(text: string): Set<string> {
  const out = new Set<string>()
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim()
    if (!t || t.startsWith('#')) continue
    out.add(t.toLowerCase())
  }
  return out
}

function readOptional(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw err
  }
}

function writeAtomic(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, content)
  fs.renameSync(tmp, file)
}
