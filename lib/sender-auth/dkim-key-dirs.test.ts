// Unit tests for the key-folder index: answers (found or not) come from memory
// until config/dkim/ changes; without a watch every lookup asks the disk.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { KeyDirIndex } from './dkim-key-dirs'

let config: string
let index: KeyDirIndex

beforeEach(() => {
  config = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-dkim-dirs-'))
  index = new KeyDirIndex(config)
})
afterEach(() => {
  index.close()
  vi.restoreAllMocks()
  fs.rmSync(config, { recursive: true, force: true })
})

const dirOf = (domain: string) => path.join(config, 'dkim', domain)
const WAIT = { timeout: 5_000, interval: 10 }

/** stat() calls naming `dir` while `run` runs. */
function statsOf(dir: string, run: () => void): number {
  const spy = vi.spyOn(fs, 'statSync')
  try {
    run()
    return spy.mock.calls.filter(([p]) => p === dir).length
  } finally {
    spy.mockRestore()
  }
}

describe('KeyDirIndex', () => {
  it('answers a domain with a key and one without from memory after the first look', () => {
    fs.mkdirSync(dirOf('example.com'), { recursive: true })
    expect(index.has(dirOf('example.com'))).toBe(true)
    expect(index.has(dirOf('example.net'))).toBe(false)
    expect(statsOf(dirOf('example.com'), () => expect(index.has(dirOf('example.com'))).toBe(true))).toBe(0)
    expect(statsOf(dirOf('example.net'), () => expect(index.has(dirOf('example.net'))).toBe(false))).toBe(0)
  })

  it('answers from memory while config/dkim/ does not exist at all (no key anywhere)', () => {
    expect(index.has(dirOf('example.com'))).toBe(false)
    expect(statsOf(dirOf('example.com'), () => expect(index.has(dirOf('example.com'))).toBe(false))).toBe(0)
  })

  it('sees a folder created after a "no", and forgets a removed one, once the watch reports it', async () => {
    fs.mkdirSync(path.join(config, 'dkim'))
    expect(index.has(dirOf('new.example'))).toBe(false)
    fs.mkdirSync(dirOf('new.example'))
    await vi.waitFor(() => expect(index.has(dirOf('new.example'))).toBe(true), WAIT)
    fs.rmSync(dirOf('new.example'), { recursive: true })
    await vi.waitFor(() => expect(index.has(dirOf('new.example'))).toBe(false), WAIT)
  })

  it('sees config/dkim/ created after the first look (watching config/ until then)', async () => {
    expect(index.has(dirOf('first.example'))).toBe(false)
    fs.mkdirSync(dirOf('first.example'), { recursive: true })
    await vi.waitFor(() => expect(index.has(dirOf('first.example'))).toBe(true), WAIT)
    // and from then on config/dkim/ itself is watched
    fs.mkdirSync(dirOf('second.example'))
    expect(index.has(dirOf('third.example'))).toBe(false)
    await vi.waitFor(() => expect(index.has(dirOf('second.example'))).toBe(true), WAIT)
  })

  it('remembers nothing when no watch can be set up: every lookup asks the disk', () => {
    vi.spyOn(fs, 'watch').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' })
    })
    expect(index.has(dirOf('example.org'))).toBe(false)
    fs.mkdirSync(dirOf('example.org'), { recursive: true })
    expect(index.has(dirOf('example.org'))).toBe(true) // at once: no stale "no"
    expect(statsOf(dirOf('example.org'), () => index.has(dirOf('example.org')))).toBe(1)
  })

  it('keeps prototype names as plain folder names', () => {
    expect(index.has(dirOf('__proto__'))).toBe(false)
    expect(index.has(dirOf('constructor'))).toBe(false)
    fs.mkdirSync(dirOf('constructor'), { recursive: true })
    const fresh = new KeyDirIndex(config)
    expect(fresh.has(dirOf('constructor'))).toBe(true)
    fresh.close()
  })
})
