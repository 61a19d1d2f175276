// Reads the table of contents of a ZIP archive (its central directory) from a
// buffer, without extracting anything: file names, sizes, compression method,
// encryption. Names come from every place an unpacker might take them (central
// directory, Info-ZIP Unicode Path field, local header), because archivers and
// Windows Explorer do not agree on which one wins and attackers use the gap.

export type ZipProblem = 'corrupt' | 'unsupported' | 'limits'

export class ZipError extends Error {
  constructor(
    readonly problem: ZipProblem,
    message: string,
  ) {
    super(message)
    this.name = 'ZipError'
  }
}

export interface ZipEntry {
  /** Name in the central directory. */
  readonly name: string
  /** Other names the same entry carries (Unicode Path field), if they differ. */
  readonly otherNames: readonly string[]
  /** 0 = stored, 8 = deflate; anything else cannot be unpacked here. */
  readonly method: number
  readonly encrypted: boolean
  readonly compressedSize: number
  readonly uncompressedSize: number
  readonly isDirectory: boolean
  /** Offset of the local file header (already corrected for data before the archive). */
  readonly localHeaderOffset: number
}

const SIG_EOCD = 0x06054b50
const SIG_EOCD64 = 0x06064b50
const SIG_EOCD64_LOCATOR = 0x07064b50
const SIG_CENTRAL = 0x02014b50
const SIG_LOCAL = 0x04034b50
const EOCD_SIZE = 22
const MAX_COMMENT = 0xffff
const METHOD_AES = 99
const FLAG_ENCRYPTED = 0x0001
const FLAG_STRONG_ENCRYPTION = 0x0040
const FLAG_UTF8 = 0x0800
const FLAG_MASKED_HEADERS = 0x2000

/** True if the bytes start like a ZIP archive (a local file header, or an empty archive). */
export function looksLikeZip(prefix: Buffer): boolean {
  if (prefix.length < 4) return false
  const sig = prefix.readUInt32LE(0)
  return sig === SIG_LOCAL || sig === SIG_EOCD
}

/**
 * Lists the entries of the archive in `buf`. Throws ZipError: 'corrupt' when the
 * structure is inconsistent, 'unsupported' for multi-disk archives, 'limits' when
 * it has more than `maxEntries` entries (checked before any entry is parsed).
 */
export function readZipDirectory(buf: Buffer, maxEntries: number): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(buf)
  if (eocd < 0) throw new ZipError('corrupt', 'no end of central directory record')
  let disk = buf.readUInt16LE(eocd + 4)
  let cdDisk = buf.readUInt16LE(eocd + 6)
  let count = buf.readUInt16LE(eocd + 10)
  let cdSize = buf.readUInt32LE(eocd + 12)
  let cdOffset = buf.readUInt32LE(eocd + 16)
  let cdEnd = eocd // where the central directory must end

  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const zip64 = readZip64End(buf, eocd)
    disk = zip64.disk
    cdDisk = zip64.cdDisk
    count = zip64.count
    cdSize = zip64.cdSize
    cdOffset = zip64.cdOffset
    cdEnd = zip64.at
  }
  if (disk !== 0 || cdDisk !== 0) throw new ZipError('unsupported', 'multi-disk archive')
  if (count > maxEntries) throw new ZipError('limits', `${count} entries (limit ${maxEntries})`)

  // Self-extracting archives have a program in front: offsets are relative to the archive's own start.
  const cdStart = cdEnd - cdSize
  const shift = cdStart - cdOffset
  if (cdStart < 0 || shift < 0) throw new ZipError('corrupt', 'central directory outside the archive')

  const entries: ZipEntry[] = []
  let pos = cdStart
  for (let i = 0; i < count; i++) {
    if (pos + 46 > cdEnd || buf.readUInt32LE(pos) !== SIG_CENTRAL) throw new ZipError('corrupt', `bad central directory entry ${i}`)
    const flags = buf.readUInt16LE(pos + 8)
    const method = buf.readUInt16LE(pos + 10)
    let compressedSize = buf.readUInt32LE(pos + 20)
    let uncompressedSize = buf.readUInt32LE(pos + 24)
    const nameLen = buf.readUInt16LE(pos + 28)
    const extraLen = buf.readUInt16LE(pos + 30)
    const commentLen = buf.readUInt16LE(pos + 32)
    let localOffset = buf.readUInt32LE(pos + 42)
    const nameStart = pos + 46
    const extraStart = nameStart + nameLen
    const next = extraStart + extraLen + commentLen
    if (next > cdEnd) throw new ZipError('corrupt', `central directory entry ${i} overruns the directory`)

    const rawName = buf.subarray(nameStart, extraStart)
    const name = rawName.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1')
    const otherNames: string[] = []
    for (const [id, data] of extraFields(buf.subarray(extraStart, extraStart + extraLen))) {
      if (id === 0x0001) {
        // Zip64: the 8-byte values appear only for the fields that are saturated above
        let at = 0
        const take = () => {
          if (at + 8 > data.length) throw new ZipError('corrupt', `short zip64 field in entry ${i}`)
          const v = Number(data.readBigUInt64LE(at))
          at += 8
          return v
        }
        if (uncompressedSize === 0xffffffff) uncompressedSize = take()
        if (compressedSize === 0xffffffff) compressedSize = take()
        if (localOffset === 0xffffffff) localOffset = take()
      } else if (id === 0x7075 && data.length > 5 && data[0] === 1) {
        const unicode = data.subarray(5).toString('utf8')
        if (unicode !== name) otherNames.push(unicode)
      }
    }

    entries.push({
      name,
      otherNames,
      method,
      encrypted: Boolean(flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS)) || method === METHOD_AES,
      compressedSize,
      uncompressedSize,
      isDirectory: name.endsWith('/') || name.endsWith('\\'),
      localHeaderOffset: localOffset + shift,
    })
    pos = next
  }
  return entries
}

/** The name in the local file header (unpackers that stream an archive use this one). */
export function localName(buf: Buffer, entry: ZipEntry): string {
  const at = localHeader(buf, entry)
  const flags = buf.readUInt16LE(at + 6)
  const nameLen = buf.readUInt16LE(at + 26)
  if (at + 30 + nameLen > buf.length) throw new ZipError('corrupt', `local header of ${JSON.stringify(entry.name)} overruns the archive`)
  return buf.subarray(at + 30, at + 30 + nameLen).toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1')
}

/** The entry's data as stored in the archive (still compressed). */
export function entryData(buf: Buffer, entry: ZipEntry): Buffer {
  const at = localHeader(buf, entry)
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28)
  const end = start + entry.compressedSize
  if (end > buf.length) throw new ZipError('corrupt', `data of ${JSON.stringify(entry.name)} overruns the archive`)
  return buf.subarray(start, end)
}

function localHeader(buf: Buffer, entry: ZipEntry): number {
  const at = entry.localHeaderOffset
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== SIG_LOCAL) throw new ZipError('corrupt', `no local header for ${JSON.stringify(entry.name)}`)
  return at
}

function findEndOfCentralDirectory(buf: Buffer): number {
  const lowest = Math.max(0, buf.length - EOCD_SIZE - MAX_COMMENT)
  for (let at = buf.length - EOCD_SIZE; at >= lowest; at--) {
    // the record must end exactly at the end of the buffer (comment included)
    if (buf.readUInt32LE(at) === SIG_EOCD && at + EOCD_SIZE + buf.readUInt16LE(at + 20) === buf.length) return at
  }
  return -1
}

function readZip64End(buf: Buffer, eocd: number): { at: number; disk: number; cdDisk: number; count: number; cdSize: number; cdOffset: number } {
  const locator = eocd - 20
  if (locator < 0 || buf.readUInt32LE(locator) !== SIG_EOCD64_LOCATOR) throw new ZipError('corrupt', 'zip64 values without a zip64 locator')
  // The locator's offset is relative to the archive's start; with data in front of the archive
  // (self-extractor) it is off, and the record (56 bytes without extensions) sits right before the locator.
  const given = buf.readBigUInt64LE(locator + 8)
  const at = given + 56n <= BigInt(locator) && buf.readUInt32LE(Number(given)) === SIG_EOCD64 ? Number(given) : locator - 56
  if (at < 0 || buf.readUInt32LE(at) !== SIG_EOCD64) throw new ZipError('corrupt', 'zip64 end record not found')
  const big = (o: number) => {
    const v = buf.readBigUInt64LE(at + o)
    if (v > BigInt(buf.length)) throw new ZipError('corrupt', 'zip64 value larger than the archive')
    return Number(v)
  }
  return { at, disk: buf.readUInt32LE(at + 16), cdDisk: buf.readUInt32LE(at + 20), count: big(32), cdSize: big(40), cdOffset: big(48) }
}

function* extraFields(extra: Buffer): Generator<[number, Buffer]> {
  let at = 0
  while (at + 4 <= extra.length) {
    const id = extra.readUInt16LE(at)
    const size = extra.readUInt16LE(at + 2)
    if (at + 4 + size > extra.length) throw new ZipError('corrupt', 'extra field overruns its entry')
    yield [id, extra.subarray(at + 4, at + 4 + size)]
    at += 4 + size
  }
}
