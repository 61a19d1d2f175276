// Unit tests of config/me at startup: written once when missing, never overwritten.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { ensureMeFile } from './me-file'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-me-'))
})
afterEach(() => {
  fs.chmodSync(dir, 0o700)
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('ensureMeFile', () => {
  it('writes the host name when the file is missing, and says so', () => {
    expect(ensureMeFile(dir, 'gw1.example.net')).toEqual({ name: 'gw1.example.net', created: path.join(dir, 'me') })
    expect(fs.readFileSync(path.join(dir, 'me'), 'utf8')).toBe('gw1.example.net\n')
  })

  it("keeps the operator's file and reads its first line; an empty one means the host name", () => {
    fs.writeFileSync(path.join(dir, 'me'), 'mx.example.com\r\nignored\n')
    expect(ensureMeFile(dir, 'gw1.example.net')).toEqual({ name: 'mx.example.com' })
    expect(fs.readFileSync(path.join(dir, 'me'), 'utf8')).toBe('mx.example.com\r\nignored\n')
    fs.writeFileSync(path.join(dir, 'me'), '\n')
    expect(ensureMeFile(dir, 'gw1.example.net')).toEqual({ name: 'gw1.example.net' })
  })

  it('reports a config folder it cannot write to instead of failing the start', () => {
    if (process.getuid?.() === 0) {
      // root writes through any mode: a missing folder stands in for a read-only one
      const r = ensureMeFile(path.join(dir, 'missing'), 'gw1.example.net')
      expect(r.name).toBe('gw1.example.net')
      expect(r.problem).toMatch(/^cannot write .*missing\/me: ENOENT/)
      return
    }
    fs.chmodSync(dir, 0o500)
    const r = ensureMeFile(dir, 'gw1.example.net')
    expect(r.problem).toMatch(/^cannot write .*\/me: EACCES/)
  })
})
