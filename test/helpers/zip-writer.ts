// A tiny ZIP writer for tests of the content checks: stored and deflated entries
// (node:zlib deflateRaw), nested archives, and the tricks attackers use (an
// "encrypted" flag, a different name in the local header or in the Info-ZIP
// Unicode Path field). It writes what real archivers write, so the reader under
// test sees ordinary archives, not fixtures shaped for it.

import zlib from 'node:zlib'

export interface ZipEntry {
  name: string
  data: Buffer | string
  /** Default deflate. */
  method?: 'store' | 'deflate'
  /** Sets the "encrypted" flag (the data is written as is: nobody can decrypt it anyway). */
  encrypted?: boolean
  /** Name written in the local file header instead of `name` (central directory keeps `name`). */
  localName?: string
  /** Adds an Info-ZIP Unicode Path extra field (0x7075) with this name. */
  unicodePath?: string
  /** Already deflated content (`data` is then ignored): entries too large to hold uncompressed (archive bombs). */
  deflated?: Deflated
  /** Uncompressed size written into the headers instead of the real one (an archive that lies). */
  declaredSize?: number
}

/** Raw deflate data with the size and CRC-32 of what it inflates to. */
export interface Deflated {
  body: Buffer
  size: number
  crc: number
}

export function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const raw = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, 'utf8')
    const method = e.deflated || e.method !== 'store' ? 8 : 0
    const body = e.deflated?.body ?? (method === 8 ? zlib.deflateRawSync(raw) : raw)
    const size = e.declaredSize ?? e.deflated?.size ?? raw.length
    const name = Buffer.from(e.name, 'utf8')
    const localName = Buffer.from(e.localName ?? e.name, 'utf8')
    const extra = e.unicodePath === undefined ? Buffer.alloc(0) : unicodePathExtra(name, e.unicodePath)
    const flags = (e.encrypted ? 0x0001 : 0) | 0x0800 // bit 11: names are UTF-8
    const crc = e.deflated?.crc ?? zlib.crc32(raw)

    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(flags, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(localName.length, 26)
    local.writeUInt16LE(extra.length, 28)
    locals.push(local, localName, extra, body)

    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(flags, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt16LE(extra.length, 30)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name, extra)
    offset += 30 + localName.length + extra.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

function unicodePathExtra(storedName: Buffer, unicodeName: string): Buffer {
  const utf8 = Buffer.from(unicodeName, 'utf8')
  const header = Buffer.alloc(9)
  header.writeUInt16LE(0x7075, 0)
  header.writeUInt16LE(5 + utf8.length, 2)
  header.writeUInt8(1, 4) // version
  header.writeUInt32LE(zlib.crc32(storedName), 5)
  return Buffer.concat([header, utf8])
}
