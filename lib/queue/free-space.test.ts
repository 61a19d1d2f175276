// Unit tests for the free-space decision that keeps a full disk from accepting half-written mail.

import os from 'node:os'

import { describe, expect, it } from 'vitest'

import { FreeSpaceCheck, SAMPLE_REUSE_MS, freeBytes, roomFor } from './free-space'

it('needs the reserve plus twice the message', () => {
  expect(roomFor(1000, 100, 800)).toBe(true)
  expect(roomFor(999, 100, 800)).toBe(false)
  expect(roomFor(Infinity, 1e12, 1e12)).toBe(true)
})

it('reads real free space, and never blocks mail on a folder it cannot examine', async () => {
  const free = await freeBytes(os.tmpdir())
  expect(free).toBeGreaterThan(0)
  expect(Number.isFinite(free)).toBe(true)
  expect(await freeBytes('/nonexistent/queue')).toBe(Infinity)
})

describe('FreeSpaceCheck', () => {
  const MiB = 1024 * 1024
  function counted(free: () => number) {
    let t = 0
    const reads: string[] = []
    const check = new FreeSpaceCheck(async (dir) => (reads.push(dir), free()), () => t)
    return { check, reads, advance: (ms: number) => (t += ms) }
  }

  it('asks the file system once per folder and second while there is plenty of room', async () => {
    const { check, reads, advance } = counted(() => 10_000 * MiB)
    for (let i = 0; i < 100; i++) expect((await check.room('/q', 4096, 100 * MiB)).ok).toBe(true)
    expect(reads).toEqual(['/q'])
    await check.room('/quarantine', 4096, 100 * MiB)
    expect(reads).toEqual(['/q', '/quarantine'])
    advance(SAMPLE_REUSE_MS)
    await check.room('/q', 4096, 100 * MiB)
    expect(reads).toEqual(['/q', '/quarantine', '/q'])
  })

  it('counts what it accepted since the last answer, and asks again before the headroom is used up', async () => {
    // 100 MiB reserve + 256 MiB headroom + 10 messages of 10 MiB (20 MiB each, as roomFor counts) = 556 MiB
    const { check, reads } = counted(() => 556 * MiB)
    for (let i = 0; i < 10; i++) expect((await check.room('/q', 10 * MiB, 100 * MiB)).ok).toBe(true)
    expect(reads).toHaveLength(1)
    await check.room('/q', 10 * MiB, 100 * MiB)
    expect(reads).toHaveLength(2)
  })

  it('near the reserve every message asks the file system, and a full disk refuses at once', async () => {
    let free = 400 * MiB
    const { check, reads } = counted(() => free)
    expect((await check.room('/q', 4096, 200 * MiB)).ok).toBe(true)
    expect((await check.room('/q', 4096, 200 * MiB)).ok).toBe(true)
    expect(reads).toHaveLength(2)
    free = 150 * MiB // something else filled the disk
    expect(await check.room('/q', 4096, 200 * MiB)).toEqual({ ok: false, free: 150 * MiB })
  })
})
