// A minimal ZIP writer for the antivirus tests: one archive of a few files,
// stored or deflated (PKWARE APPNOTE 4.3: local headers, central directory,
// end record; no ZIP64, no encryption). A deflated entry hides its content,
// so a scanner can only find a signature in it by unpacking the archive.

import zlib from 'node:zlib'

export interface ZipEntry {
  name: string
  data: Buffer
}

export type ZipMethod = 'stored' | 'deflated'

const METHOD = { stored: 0, deflated: 8 } as const
// 2026-11-27 12:00:00 in MS-DOS format (the value only has to be valid)
const DOS_TIME = (12 << 11) | (0 << 5) | 0
const DOS_DATE = ((2026 - 1980) << 9) | (11 << 5) | 27

export function zip(entries: ZipEntry[], method: ZipMethod = 'stored'): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8')
    const body = method === 'deflated' ? zlib.deflateRawSync(entry.data) : entry.data
    const crc = zlib.crc32(entry.data)

    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0) // local file header signature
    local.writeUInt16LE(20, 4) // version needed: 2.0
    local.writeUInt16LE(0x0800, 6) // flags: UTF-8 name
    local.writeUInt16LE(METHOD[method], 8)
    local.writeUInt16LE(DOS_TIME, 10)
    local.writeUInt16LE(DOS_DATE, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18) // compressed size
    local.writeUInt32LE(entry.data.length, 22) // uncompressed size
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28) // extra field length
    locals.push(local, name, body)

    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0) // central directory header signature
    central.writeUInt16LE(20, 4) // version made by
    central.writeUInt16LE(20, 6) // version needed
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(METHOD[method], 10)
    central.writeUInt16LE(DOS_TIME, 12)
    central.writeUInt16LE(DOS_DATE, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(entry.data.length, 24)
    central.writeUInt16LE(name.length, 28)
    // extra, comment, disk number, internal and external attributes: 0
    central.writeUInt32LE(offset, 42) // offset of the local header
    centrals.push(central, name)

    offset += local.length + name.length + body.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0) // end of central directory signature
  end.writeUInt16LE(entries.length, 8) // entries on this disk
  end.writeUInt16LE(entries.length, 10) // entries in total
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16) // where the central directory starts
  return Buffer.concat([...locals, directory, end])
}
