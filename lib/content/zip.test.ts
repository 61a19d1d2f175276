// Unit tests for the ZIP central directory reader, on archives built by the test zip writer
// (stored and deflated entries, the name tricks) and on broken or hostile ones.
import { describe, expect, it } from 'vitest'

import { zip } from '../../test/helpers/zip-writer'
import { inflateBounded } from './inflate'
import { entryData, localName, looksLikeZip, readZipDirectory, ZipError } from './zip'

const problemOf = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    if (err instanceof ZipError) return err.problem
    throw err
  }
  return 'none'
}

describe('readZipDirectory', () => {
  it('lists stored and deflated entries with their names, sizes and data', async () => {
    const archive = zip([
      { name: 'docs/readme.txt', data: 'hello hello hello hello', method: 'deflate' },
      { name: 'tool.exe', data: 'MZ....', method: 'store' },
      { name: 'docs/', data: '', method: 'store' },
    ])
    expect(looksLikeZip(archive)).toBe(true)
    const entries = readZipDirectory(archive, 100)
    expect(entries.map((e) => [e.name, e.method, e.uncompressedSize, e.isDirectory, e.encrypted])).toEqual([
      ['docs/readme.txt', 8, 23, false, false],
      ['tool.exe', 0, 6, false, false],
      ['docs/', 0, 0, true, false],
    ])
    expect(entryData(archive, entries[1]!).toString()).toBe('MZ....')
    const inflated = await inflateBounded(entryData(archive, entries[0]!), 1000)
    expect(inflated).toEqual({ data: Buffer.from('hello hello hello hello'), complete: true })
  })

  it('reports the other names an entry carries: Unicode Path field and local header', () => {
    const archive = zip([{ name: 'report.txt', data: 'x', unicodePath: 'report.exe', localName: 'other.scr' }])
    const [entry] = readZipDirectory(archive, 10)
    expect(entry!.name).toBe('report.txt')
    expect(entry!.otherNames).toEqual(['report.exe'])
    expect(localName(archive, entry!)).toBe('other.scr')
  })

  it('flags encrypted entries', () => {
    const [entry] = readZipDirectory(zip([{ name: 'secret.doc', data: 'xxxx', method: 'store', encrypted: true }]), 10)
    expect(entry!.encrypted).toBe(true)
  })

  it('finds the archive behind data in front of it (self-extractors) and with a trailing comment', () => {
    const archive = zip([{ name: 'a.exe', data: 'abc', method: 'store' }])
    const withComment = Buffer.concat([archive, Buffer.from('comment!')])
    withComment.writeUInt16LE(8, archive.length - 2)
    const sfx = Buffer.concat([Buffer.alloc(1000, 0x4d), withComment])
    const [entry] = readZipDirectory(sfx, 10)
    expect(entry!.name).toBe('a.exe')
    expect(entryData(sfx, entry!).toString()).toBe('abc')
  })

  it('refuses more entries than allowed before parsing them', () => {
    const archive = zip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' })))
    expect(problemOf(() => readZipDirectory(archive, 4))).toBe('limits')
    expect(readZipDirectory(archive, 5)).toHaveLength(5)
  })

  it('calls truncated, garbage and inconsistent archives corrupt', () => {
    const archive = zip([{ name: 'a.txt', data: 'hello', method: 'store' }])
    expect(problemOf(() => readZipDirectory(archive.subarray(0, archive.length - 5), 10))).toBe('corrupt')
    expect(problemOf(() => readZipDirectory(Buffer.from('PK\x03\x04 not really a zip'), 10))).toBe('corrupt')
    expect(problemOf(() => readZipDirectory(Buffer.alloc(0), 10))).toBe('corrupt')
    // the directory claims more entries than it holds
    const lying = Buffer.from(archive)
    lying.writeUInt16LE(3, lying.length - 12)
    expect(problemOf(() => readZipDirectory(lying, 10))).toBe('corrupt')
    // an entry pointing outside the archive
    const pointing = Buffer.from(archive)
    const cd = pointing.readUInt32LE(pointing.length - 6)
    pointing.writeUInt32LE(1_000_000, cd + 42)
    const [entry] = readZipDirectory(pointing, 10)
    expect(problemOf(() => entryData(pointing, entry!))).toBe('corrupt')
  })

  it('reads zip64 end records (as streaming archivers write them)', () => {
    const archive = toZip64(zip([{ name: 'a.exe', data: 'abc', method: 'store' }, { name: 'b.txt', data: 'x' }]))
    const entries = readZipDirectory(archive, 10)
    expect(entries.map((e) => e.name)).toEqual(['a.exe', 'b.txt'])
    expect(entryData(archive, entries[0]!).toString()).toBe('abc')
  })

  it('refuses multi-disk archives as unsupported', () => {
    const archive = Buffer.from(zip([{ name: 'a.txt', data: 'x' }]))
    archive.writeUInt16LE(1, archive.length - 22 + 4)
    expect(problemOf(() => readZipDirectory(archive, 10))).toBe('unsupported')
  })
})

describe('inflateBounded', () => {
  it('stops at the limit instead of inflating a bomb', async () => {
    const bomb = zip([{ name: 'zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }])
    const [entry] = readZipDirectory(bomb, 10)
    expect(entry!.compressedSize).toBeLessThan(30_000)
    const out = await inflateBounded(entryData(bomb, entry!), 4096)
    expect(out.complete).toBe(false)
    expect(out.data.length).toBe(4096)
  })

  it('rejects invalid deflate data', async () => {
    await expect(inflateBounded(Buffer.from([0xff, 0xff, 0xff, 0xff]), 100)).rejects.toThrow()
  })
})

/** Rewrites a small archive's end as zip64 does: saturated classic fields, then the zip64 record and locator. */
function toZip64(archive: Buffer): Buffer {
  const eocd = archive.length - 22
  const count = archive.readUInt16LE(eocd + 10)
  const cdSize = archive.readUInt32LE(eocd + 12)
  const cdOffset = archive.readUInt32LE(eocd + 16)
  const record = Buffer.alloc(56)
  record.writeUInt32LE(0x06064b50, 0)
  record.writeBigUInt64LE(44n, 4)
  record.writeBigUInt64LE(BigInt(count), 24)
  record.writeBigUInt64LE(BigInt(count), 32)
  record.writeBigUInt64LE(BigInt(cdSize), 40)
  record.writeBigUInt64LE(BigInt(cdOffset), 48)
  const locator = Buffer.alloc(20)
  locator.writeUInt32LE(0x07064b50, 0)
  locator.writeBigUInt64LE(BigInt(eocd), 8)
  locator.writeUInt32LE(1, 16)
  const end = Buffer.from(archive.subarray(eocd))
  end.writeUInt16LE(0xffff, 8)
  end.writeUInt16LE(0xffff, 10)
  end.writeUInt32LE(0xffffffff, 12)
  end.writeUInt32LE(0xffffffff, 16)
  return Buffer.concat([archive.subarray(0, eocd), record, locator, end])
}
