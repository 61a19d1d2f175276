// Unit tests for looking inside ZIP archives: nested archives, names in every place,
// programs by content, and the limits that bound the work (depth, entries, bytes).
import { describe, expect, it } from 'vitest'

import { fakeWindowsProgram } from '../../test/helpers/content-mail'
import { zip } from '../../test/helpers/zip-writer'
import { inspectZip, isZipName, ScanBudget, type ArchiveIssue, type ArchiveLimits, type ArchiveMember } from './archive-scan'
import { isWindowsExecutable, sniff } from './sniff'

const LIMITS: ArchiveLimits = { maxDepth: 3, maxEntries: 100, maxBytes: 1024 * 1024, maxArchiveBytes: 1024 * 1024, maxParts: 1000, maxRatio: 100, ratioMinBytes: 1024 * 1024, maxExpandedBytes: 256 * 1024 * 1024 }

async function inspect(data: Buffer, limits: Partial<ArchiveLimits> = {}) {
  const members: ArchiveMember[] = []
  const issues: ArchiveIssue[] = []
  const budget = new ScanBudget({ ...LIMITS, ...limits })
  await inspectZip(data, ['mail.zip'], budget, { member: (m) => members.push(m), issue: (i) => issues.push(i) })
  return { members, issues, budget }
}

describe('sniff', () => {
  it('recognises ZIP archives and Windows programs by their first bytes', () => {
    expect(sniff(zip([{ name: 'a', data: 'b' }]))).toBe('zip')
    expect(sniff(fakeWindowsProgram())).toBe('windows_executable')
    expect(isWindowsExecutable(Buffer.from('MZ is just text here, no PE header follows at all, not even close...'))).toBe(false)
    expect(sniff(Buffer.from('%PDF-1.4'))).toBe('other')
  })
})

describe('inspectZip', () => {
  it('lists entries with their paths and content kinds, nested archives included', async () => {
    const inner = zip([{ name: 'payload.exe', data: fakeWindowsProgram() }])
    const outer = zip([
      { name: 'notes.txt', data: 'hello' },
      { name: 'more/inner.zip', data: inner, method: 'store' },
      { name: 'renamed.dat', data: zip([{ name: 'deep.scr', data: 'x' }]) }, // a zip under another name
    ])
    const { members, issues } = await inspect(outer)
    expect(issues).toEqual([])
    expect(members.map((m) => [m.path.join(' > '), m.content])).toEqual([
      ['mail.zip > notes.txt', 'other'],
      ['mail.zip > more/inner.zip', 'zip'],
      ['mail.zip > more/inner.zip > payload.exe', 'windows_executable'],
      ['mail.zip > renamed.dat', 'zip'],
      ['mail.zip > renamed.dat > deep.scr', 'other'],
    ])
  })

  it('reports every name of an entry (Unicode Path field, local header)', async () => {
    const { members } = await inspect(zip([{ name: 'a.txt', data: 'x', unicodePath: 'a.exe', localName: 'a.js' }]))
    expect(members[0]!.names).toEqual(['a.txt', 'a.exe', 'a.js'])
  })

  it('reports an encrypted archive once, still listing the names', async () => {
    const { members, issues } = await inspect(
      zip([
        { name: 'a.doc', data: 'xx', encrypted: true },
        { name: 'b.exe', data: 'yy', encrypted: true },
      ]),
    )
    expect(members.map((m) => [m.names[0], m.content])).toEqual([
      ['a.doc', 'unknown'],
      ['b.exe', 'unknown'],
    ])
    expect(issues.map((i) => [i.problem, i.path.join(' > ')])).toEqual([['encrypted', 'mail.zip']])
  })

  it('reports a corrupt archive, a corrupt nested one, and a ".zip" that is no archive', async () => {
    expect((await inspect(Buffer.from('PK\x03\x04garbage'))).issues.map((i) => i.problem)).toEqual(['corrupt'])
    const brokenInner = zip([{ name: 'x.txt', data: 'x' }]).subarray(0, 20)
    const { issues } = await inspect(
      zip([
        { name: 'inner.zip', data: brokenInner, method: 'store' },
        { name: 'fake.zip', data: 'just text' },
      ]),
    )
    expect(issues.map((i) => [i.problem, i.path.join(' > ')])).toEqual([
      ['corrupt', 'mail.zip > inner.zip'],
      ['corrupt', 'mail.zip > fake.zip'],
    ])
  })

  it('stops descending at the depth limit', async () => {
    let archive = zip([{ name: 'bottom.exe', data: 'x' }])
    for (let i = 4; i >= 1; i--) archive = zip([{ name: `level${i}.zip`, data: archive }])
    const { members, issues } = await inspect(archive, { maxDepth: 3 })
    expect(members.map((m) => m.path.length)).toEqual([2, 3, 4])
    expect(issues.map((i) => [i.problem, i.path.at(-1)])).toEqual([['limits', 'level3.zip']])
    expect(members.some((m) => m.names.includes('bottom.exe'))).toBe(false)
  })

  it('bounds the entries listed per message', async () => {
    const many = zip(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' })))
    const { members, issues } = await inspect(many, { maxEntries: 10 })
    expect(members).toEqual([])
    expect(issues.map((i) => i.problem)).toEqual(['limits'])
  })

  it('keeps only the start of ordinary entries in memory: a zip bomb costs a few KiB, not its size', async () => {
    const bomb = zip([{ name: 'bomb.zip', data: zip([{ name: 'zeros', data: Buffer.alloc(30 * 1024 * 1024) }]) }])
    const { members, issues, budget } = await inspect(bomb)
    // found from its declared sizes (archive-bomb.test.ts), before its content is inflated
    expect(issues.map((i) => [i.problem, i.path.join(' > ')])).toEqual([['bomb', 'mail.zip > bomb.zip > zeros']])
    expect(members.map((m) => m.path.join(' > '))).toEqual(['mail.zip > bomb.zip', 'mail.zip > bomb.zip > zeros'])
    expect(LIMITS.maxBytes - budget.bytesLeft).toBeLessThan(200 * 1024)
  })

  it('bounds the bytes decompressed per message: a nested archive beyond the budget is not opened', async () => {
    const inner = zip([{ name: 'filler.bin', data: Buffer.alloc(300 * 1024, 7), method: 'store' }])
    const { issues, budget } = await inspect(zip([{ name: 'big.zip', data: inner }]), { maxBytes: 256 * 1024 })
    expect(issues.map((i) => [i.problem, i.path.join(' > ')])).toEqual([['limits', 'mail.zip > big.zip']])
    expect(budget.bytesLeft).toBeGreaterThan(-64 * 1024) // overshoot at most about one zlib chunk
  })

  it('keeps listing names once the byte budget is used up', async () => {
    const big = Buffer.alloc(200 * 1024, 1)
    const { members, issues } = await inspect(
      zip([
        { name: 'big.bin', data: big, method: 'store' },
        { name: 'inner.zip', data: zip([{ name: 'x.txt', data: big, method: 'store' }]), method: 'store' },
        { name: 'late.exe', data: 'x' },
      ]),
      { maxBytes: 64 * 1024 + 10 },
    )
    expect(members.map((m) => m.names[0])).toContain('late.exe')
    expect(issues.map((i) => i.problem)).toContain('limits')
  })

  it('knows ZIP names', () => {
    expect(isZipName('A.ZIP')).toBe(true)
    expect(isZipName('a.zip.')).toBe(true)
    expect(isZipName('a.zipx')).toBe(false)
  })
})
