// Unit tests for finding engine binaries: the override variable is taken literally, else PATH and the Debian folders.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { findBinary, freePort } from './proc'

afterEach(() => {
  delete process.env.GATEWAY_TEST_BIN
})

describe('findBinary', () => {
  it('finds a program on PATH or in the usual folders', () => {
    expect(findBinary('GATEWAY_TEST_BIN', ['sh'])).toMatch(/\/sh$/)
    expect(findBinary('GATEWAY_TEST_BIN', ['no-such-program-here'])).toBeUndefined()
  })

  it('takes the override variable literally: a missing or non-executable file means not installed', () => {
    process.env.GATEWAY_TEST_BIN = process.execPath
    expect(findBinary('GATEWAY_TEST_BIN', ['sh'])).toBe(process.execPath)
    process.env.GATEWAY_TEST_BIN = '/nonexistent/sh'
    expect(findBinary('GATEWAY_TEST_BIN', ['sh'])).toBeUndefined()
    const plain = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gw-proc-')), 'rspamd')
    fs.writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 })
    process.env.GATEWAY_TEST_BIN = plain
    expect(findBinary('GATEWAY_TEST_BIN', ['sh'])).toBeUndefined()
    fs.rmSync(path.dirname(plain), { recursive: true })
  })
})

describe('freePort', () => {
  it('returns a usable loopback port', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThan(0)
    expect(port).toBeLessThan(65536)
  })
})
