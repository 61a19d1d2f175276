// Unit tests for re-reading a data file only when it changed, and refusing to treat an unreadable one as absent.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, expect, it } from 'vitest'

import { ChangedFile } from './changed-file'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'changed-file-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

it('returns the text on change, undefined while unchanged, null when missing', () => {
  const file = path.join(dir, 'list')
  const f = new ChangedFile(file)
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
