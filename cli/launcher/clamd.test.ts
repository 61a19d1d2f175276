// Unit tests for the private clamd's signature choice and the EICAR test file.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { eicar, hasSignatures } from './clamd'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-clamav-db-'))
  dirs.push(d)
  return d
}

describe('hasSignatures', () => {
  it('is true only for a folder holding databases as freshclam writes them', () => {
    const dir = tmp()
    expect(hasSignatures(dir)).toBe(false)
    fs.writeFileSync(path.join(dir, 'freshclam.dat'), '')
    fs.writeFileSync(path.join(dir, 'local.ndb'), '')
    expect(hasSignatures(dir)).toBe(false)
    for (const name of ['main.cvd', 'daily.cld', 'bytecode.cud']) {
      const one = tmp()
      fs.writeFileSync(path.join(one, name), '')
      expect(hasSignatures(one)).toBe(true)
    }
    expect(hasSignatures('/nonexistent/clamav')).toBe(false)
  })
})

describe('eicar', () => {
  it('is the 68-byte EICAR test file', () => {
    const e = eicar()
    expect(e).toHaveLength(68)
    // its published SHA-256 (the string itself never appears whole in the repository)
    expect(createHash('sha256').update(e).digest('hex')).toBe('275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f')
  })
})
