// The quarantine: messages a check decided to hold are kept on the gateway, one
// "<id>.eml" (the message as it would have been delivered) plus "<id>.json"
// (envelope and why) per message, written durably before the sender gets its 250.
// Administrators list, inspect, release (deliver to the internal servers) or
// delete them with `gateway quarantine`.

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

const ID = /^[A-Za-z0-9_-]{8,64}$/

export class QuarantineStore {
  constructor(readonly dir: string) {}

  /** Stores a message durably (fsync, then rename into place); returns its id. */
  async put(meta: Omit<QuarantineEntry, 'id' | 'at' | 'size'>, message: Readable): Promise<QuarantineEntry> {
    await fs.promises.mkdir(this.dir, { recursive: true })
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

  get(id: string): { entry: QuarantineEntry; message: Buffer } | undefined {
    if (!ID.test(id) || !fs.existsSync(this.file(id, 'json'))) return undefined
    return {
      entry: JSON.parse(fs.readFileSync(this.file(id, 'json'), 'utf8')) as QuarantineEntry,
      message: fs.readFileSync(this.file(id, 'eml')),
    }
  }

  delete(id: string): boolean {
    if (!ID.test(id) || !fs.existsSync(this.file(id, 'json'))) return false
    fs.rmSync(this.file(id, 'json'))
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
  const dir = await fs.promises.open(path.dirname(file), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
