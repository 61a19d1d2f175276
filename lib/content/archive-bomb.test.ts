// Unit tests for archive bombs: compression ratios (per entry and per archive),
// the uncompressed bytes declared over nested archives, entries that hold more
// than they declare, and that the gateway's own work stays bounded while it finds out.
import zlib from 'node:zlib'

import { describe, expect, it } from 'vitest'

import { deflatedZeros, zerosZip } from '../../test/helpers/zip-bomb'
import { zip } from '../../test/helpers/zip-writer'
import { inspectZip, ScanBudget, type ArchiveIssue, type ArchiveLimits, type ArchiveMember } from './archive-scan'
import { bombFinding, archiveFinding } from './findings'

const MIB = 1024 * 1024
const LIMITS: ArchiveLimits = {
  maxDepth: 3,
  maxEntries: 1000,
  maxBytes: 50 * MIB,
  maxArchiveBytes: 25 * MIB,
  maxParts: 1000,
  maxRatio: 100,
  ratioMinBytes: MIB,
  maxExpandedBytes: 256 * MIB,
}

async function inspect(data: Buffer, limits: Partial<ArchiveLimits> = {}) {
  const members: ArchiveMember[] = []
  const issues: ArchiveIssue[] = []
  const budget = new ScanBudget({ ...LIMITS, ...limits })
  await inspectZip(data, ['mail.zip'], budget, { member: (m) => members.push(m), issue: (i) => issues.push(i) })
  return { members, issues, budget, kept: LIMITS.maxBytes - budget.bytesLeft }
}

const bombs = (issues: ArchiveIssue[]) => issues.filter((i) => i.problem === 'bomb').map((i) => [i.path.join(' > '), i.detail])

/** A server log: varied lines, about 10:1 under deflate, like a real one. */
function serverLog(bytes: number): Buffer {
  const lines: string[] = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const line = `2026-12-02T12:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}Z web-${i % 7} app[${1000 + (i % 97)}]: GET /api/items/${(i * 7919) % 100_000} 200 ${(i * 31) % 900} ms\n`
    lines.push(line)
    size += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, bytes)
}

describe('archive bombs', () => {
  it('finds 1 GiB of zeros in a 1 MB archive from its declared sizes, inflating none of it', async () => {
    const bomb = zerosZip('zeros.bin', 1024)
    expect(bomb.length).toBeLessThan(1.1 * MIB)
    const { issues, members, kept } = await inspect(bomb)
    expect(bombs(issues)).toEqual([
      ['mail.zip > zeros.bin', expect.stringMatching(/^declares 1073741824 bytes from \d+ \(10\d\d:1, limit 100:1\)$/)],
      ['mail.zip', 'archives of the message expand to more than 268435456 bytes'],
    ])
    expect(members.map((m) => [m.names[0], m.content])).toEqual([['zeros.bin', 'unknown']]) // named, not opened
    expect(kept).toBe(0)
    expect(bombFinding(issues)).toMatchObject({ check: 'archive-bomb', result: 'archive_bomb', reply: { code: 554, enhanced: '5.7.1' } })
    expect(archiveFinding(issues)).toBeUndefined() // not "cannot be inspected": its own check and action
  })

  it('finds nested archives that together declare 4 GiB, counting over all nesting levels', async () => {
    const inner = zerosZip('zeros.bin', 1024)
    const outer = zip([1, 2, 3, 4].map((n) => ({ name: `part${n}.zip`, data: inner })))
    // the ratio check off (1032:1 is the most deflate can do): the expanded total alone finds it
    const { issues } = await inspect(outer, { maxRatio: 1032, maxExpandedBytes: 3 * 1024 * MIB })
    expect(bombs(issues)).toEqual([['mail.zip > part3.zip', 'archives of the message expand to more than 3221225472 bytes']])
  })

  it('finds many entries that are each too small for the ratio check but together are a bomb', async () => {
    const entry = deflatedZeros(1) // 1 MiB: at ratioMinBytes 2 MiB no single entry is judged
    const many = zip(Array.from({ length: 200 }, (_, i) => ({ name: `f${i}.bin`, data: '', deflated: entry })))
    const { issues } = await inspect(many, { ratioMinBytes: 2 * MIB })
    expect(bombs(issues)).toEqual([['mail.zip', expect.stringMatching(/^entries declare 209715200 bytes from \d+ \(\d+:1, limit 100:1\)$/)]])
  })

  it('catches an entry that holds more than it declares, inflating only one chunk past the declared size', async () => {
    // 1 GiB of zeros declared as 2 MiB: 2 MiB from ~1 MB is only 2:1, so the sizes look innocent
    const liar = zip([
      { name: 'notes.txt', data: 'hello' },
      { name: 'report.txt', data: '', deflated: deflatedZeros(1024), declaredSize: 2 * MIB },
    ])
    const started = process.cpuUsage()
    const { issues } = await inspect(liar)
    const cpu = process.cpuUsage(started)
    expect(bombs(issues)).toEqual([['mail.zip > report.txt', 'declares 2097152 bytes but inflates to more']])
    // inflating the whole GiB takes seconds of CPU; 2 MiB takes milliseconds (generous for a busy machine)
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(1000)
  })

  it('passes legitimate compressible archives: a 2 MB server log at about 10:1, an office-like bundle', async () => {
    const log = serverLog(2 * MIB)
    expect(log.length / zlib.deflateRawSync(log).length).toBeGreaterThan(5)
    const { issues, members } = await inspect(
      zip([
        { name: 'server.log', data: log },
        { name: 'word/document.xml', data: '<w:p>quarterly numbers</w:p>'.repeat(20_000) }, // ~560 KB at a high ratio, below ratioMinBytes
        { name: 'photo.jpg', data: Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)), method: 'store' },
      ]),
    )
    expect(issues).toEqual([])
    expect(members.map((m) => m.content)).toEqual(['other', 'other', 'other'])
  })

  it('does not flag a stored (uncompressed) entry, whatever its size', async () => {
    const { issues } = await inspect(zip([{ name: 'big.bin', data: Buffer.alloc(3 * MIB), method: 'store' }]))
    expect(issues).toEqual([])
  })

  it('stops inflating the rest of the message once a bomb is found', async () => {
    const inner = zip([{ name: 'payload.txt', data: 'x' }])
    const { issues, kept } = await inspect(zip([{ name: 'zeros.bin', data: '', deflated: deflatedZeros(64) }, { name: 'inner.zip', data: inner }]))
    expect(bombs(issues).map(([p]) => p)).toEqual(['mail.zip > zeros.bin'])
    expect(kept).toBe(0)
  })
})
