// Unit tests for re-reading a data file only when it changed, and refusing to treat an unreadable one as absent.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, expect, it, vi } from 'vitest'

import { ChangedFile, RECHECK_MS } from './changed-file'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'changed-file-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

it('returns the text on change, undefined while unchanged, null when missing (a stat at every use: recheckMs 0)', () => {
  const file = path.join(dir, 'list')
  const f = new ChangedFile(file, { recheckMs: 0 })
  expect(f.readIfChanged()).toBeNull()
  expect(f.readIfChanged()).toBeUndefined()
  fs.writeFileSync(file, 'a\n')
  expect(f.readIfChanged()).toBe('a\n')
  expect(f.readIfChanged()).toBeUndefined()
  fs.writeFileSync(file, 'a\nb\n')
  expect(f.readIfChanged()).toBe('a\nb\n')
  fs.rmSync(file)
  expect(f.readIfChanged()).toBeNull()
})

it('throws for a file that exists but cannot be read, every time until it can', () => {
  const file = path.join(dir, 'not-a-file')
  fs.mkdirSync(file) // reading a directory fails like an unreadable file (EISDIR), also as root
  const f = new ChangedFile(file)
  expect(() => f.readIfChanged()).toThrow(/cannot read/)
  expect(() => f.readIfChanged()).toThrow(/cannot read/)
})

it('watched: no stat while nothing changed, the change seen as soon as the folder reports it', async () => {
  const file = path.join(dir, 'watched')
  fs.writeFileSync(file, 'one\n')
  const f = new ChangedFile(file, { now: () => 0 }) // a clock that never moves: only the watch can tell
  try {
    expect(f.readIfChanged()).toBe('one\n')
    const stat = vi.spyOn(fs, 'statSync')
    try {
      for (let i = 0; i < 1000; i++) expect(f.readIfChanged()).toBeUndefined()
      expect(stat).not.toHaveBeenCalled() // 1,000 uses, no system call
      fs.writeFileSync(`${file}.tmp`, 'two\n')
      fs.renameSync(`${file}.tmp`, file) // replaced the way editors and the CLI do it
      await vi.waitFor(() => expect(f.readIfChanged()).toBe('two\n'), { timeout: 5_000, interval: 5 })
      expect(f.readIfChanged()).toBeUndefined()
      fs.rmSync(file)
      await vi.waitFor(() => expect(f.readIfChanged()).toBeNull(), { timeout: 5_000, interval: 5 })
    } finally {
      stat.mockRestore()
    }
  } finally {
    f.close()
  }
})

it('once the watch is closed (or failed), every use stats again', () => {
  const file = path.join(dir, 'unwatched')
  fs.writeFileSync(file, 'one\n')
  const f = new ChangedFile(file, { now: () => 0 })
  expect(f.readIfChanged()).toBe('one\n')
  f.close()
  fs.writeFileSync(file, 'two, longer\n')
  expect(f.readIfChanged()).toBe('two, longer\n')
})

it('a folder that does not exist yet: every use stats, and the file is found once it appears', () => {
  const file = path.join(dir, 'later', 'list')
  const f = new ChangedFile(file, { now: () => 0 })
  expect(f.readIfChanged()).toBeNull()
  fs.mkdirSync(path.dirname(file))
  fs.writeFileSync(file, 'x\n')
  expect(f.readIfChanged()).toBe('x\n')
})

it('with the watch working but silent, the recheck interval still bounds how late a change is seen', () => {
  const file = path.join(dir, 'interval')
  fs.writeFileSync(file, 'one\n')
  let t = 0
  const f = new ChangedFile(file, { now: () => t })
  try {
    expect(f.readIfChanged()).toBe('one\n')
    fs.writeFileSync(file, 'two, longer\n') // same tick: the event cannot have arrived
    t = RECHECK_MS - 1
    expect(f.readIfChanged()).toBeUndefined()
    t = RECHECK_MS
    expect(f.readIfChanged()).toBe('two, longer\n')
  } finally {
    f.close()
  }
})
