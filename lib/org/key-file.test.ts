// Unit tests of the X-Gateway-Org key file and its running view: created
// owner-only and atomically (two instances starting at once share one file),
// refused when corrupt or readable by others (one ConfigError naming the file),
// rotated with a grace period, and re-read when it changes.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { ConfigError } from '../config/errors'
import { createKeyFileIfMissing, DROP_RETIRED_AFTER_MS, generateKey, keyState, openKeyFile, parseKeys, readKeyFile, replaceKeyFile, rotateKeys, serializeKeys, signingKeyOf } from './key-file'
import { OrgKeyStore } from './key-store'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})
function tmpFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'org-keys-'))
  dirs.push(dir)
  return path.join(dir, 'var', 'org-keys.json')
}
const mode = (p: string) => fs.statSync(p).mode & 0o777

describe('key file', () => {
  it('is created on first open: one signing key, file 0600 in a new folder 0700', () => {
    const file = tmpFile()
    const { keys } = openKeyFile(file, 1000)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({ created: 1000, retires: null })
    expect(keys[0]!.id).toMatch(/^k[\w-]{12}$/)
    expect(keys[0]!.secret).toHaveLength(32)
    expect(mode(file)).toBe(0o600)
    expect(mode(path.dirname(file))).toBe(0o700)
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ version: 1, keys: [{ id: keys[0]!.id, created: 1000, retires: null }] })
    // no temporary file is left behind
    expect(fs.readdirSync(path.dirname(file))).toEqual(['org-keys.json'])
  })

  it('two starts at once share one key (create by link: the second uses the first one\'s file)', () => {
    const file = tmpFile()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const results = Array.from({ length: 10 }, () => createKeyFileIfMissing(file, 1))
    expect(results.filter((r) => r === 'created')).toHaveLength(1)
    const first = readKeyFile(file).keys
    expect(openKeyFile(file, 2).keys).toEqual(first)
    expect(fs.readdirSync(path.dirname(file))).toEqual(['org-keys.json'])
  })

  it.each([
    ['not JSON', '{', /is not valid JSON/],
    ['wrong version', '{"version":2,"keys":[]}', /has version 2; this gateway reads version 1/],
    ['no keys', '{"version":1,"keys":[]}', /has no keys/],
    ['short secret', JSON.stringify({ version: 1, keys: [{ id: 'kabcdefgh', secret: Buffer.alloc(16).toString('base64'), created: 1, retires: null }] }), /keys\[0\]\.secret \(key kabcdefgh\) is not 32 bytes/],
    ['bad id', JSON.stringify({ version: 1, keys: [{ id: '__proto__', secret: Buffer.alloc(32).toString('base64'), created: 1, retires: null }] }), /keys\[0\]\.id is not a key id/],
    ['all retired', JSON.stringify({ version: 1, keys: [{ id: 'kabcdefgh', secret: Buffer.alloc(32).toString('base64'), created: 1, retires: 5 }] }), /has no signing key/],
  ])('%s: one ConfigError naming the file, no secret in it', (_name, text, problem) => {
    const file = tmpFile()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, text, { mode: 0o600 })
    const err = (() => {
      try {
        openKeyFile(file, 1)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).message).toContain(file.split(path.sep).slice(-2).join(path.sep))
    expect((err as ConfigError).message).toMatch(problem)
    expect((err as ConfigError).message).not.toContain(Buffer.alloc(32).toString('base64'))
  })

  it('refuses a file group or others can read, and a symbolic link', () => {
    const file = tmpFile()
    openKeyFile(file, 1)
    fs.chmodSync(file, 0o640)
    expect(() => readKeyFile(file)).toThrow(/accessible to group or others \(mode 0640\): run chmod 600/)
    fs.chmodSync(file, 0o600)
    const link = path.join(path.dirname(file), 'link.json')
    fs.symlinkSync(file, link)
    expect(() => readKeyFile(link)).toThrow(/symbolic link/)
  })

  it('rotation: new signing key, previous ones verify until the grace ends, long-retired ones dropped', () => {
    const day = 86_400_000
    const old = { ...generateKey(0), retires: 1 * day }
    const current = generateKey(2 * day)
    const now = 1 * day + DROP_RETIRED_AFTER_MS + 1
    const after = rotateKeys([old, current], now, 60_000)
    expect(after.map((k) => k.id)).not.toContain(old.id)
    expect(after).toHaveLength(2)
    expect(after[0]).toMatchObject({ id: current.id, retires: now + 60_000 })
    expect(signingKeyOf(after)).toBe(after[1])
    expect(keyState(after[0]!, after, now)).toBe('verifying')
    expect(keyState(after[0]!, after, now + 60_000)).toBe('retired')
    expect(keyState(after[1]!, after, now)).toBe('signing')
    expect(parseKeys(serializeKeys(after))).toEqual(after)
  })

  it('replace keeps the file owner-only and swaps it atomically', () => {
    const file = tmpFile()
    const first = openKeyFile(file, 1)
    replaceKeyFile(file, rotateKeys(first.keys, 2, 1000))
    expect(mode(file)).toBe(0o600)
    expect(readKeyFile(file).keys).toHaveLength(2)
    expect(fs.readdirSync(path.dirname(file))).toEqual(['org-keys.json'])
  })
})

describe('OrgKeyStore', () => {
  it('re-reads a rotated file (looking at most once a second); the old key verifies until its grace ends', () => {
    const file = tmpFile()
    let now = 10_000
    const reloads: string[] = []
    const store = new OrgKeyStore(file, () => now, (m) => reloads.push(m))
    const first = store.signingKey()
    replaceKeyFile(file, rotateKeys(readKeyFile(file).keys, now, 5000))
    now += 500
    expect(store.signingKey().id).toBe(first.id) // not looked at yet
    now += 500
    const second = store.signingKey()
    expect(second.id).not.toBe(first.id)
    expect(reloads).toEqual([expect.stringContaining(`signing with ${second.id}`)])
    expect(reloads[0]).not.toContain(first.secret.toString('base64'))
    expect(store.lookup(first.id).state).toBe('valid')
    now = 10_000 + 5000
    expect(store.lookup(first.id)).toEqual({ state: 'retired', retiredAt: 15_000 })
    expect(store.lookup('knotthere')).toEqual({ state: 'unknown' })
    expect(store.lookup('__proto__')).toEqual({ state: 'unknown' })
  })

  it('a file broken or removed after start makes it throw (no signing with stale trust)', () => {
    const file = tmpFile()
    let now = 0
    const store = new OrgKeyStore(file, () => now)
    fs.writeFileSync(file, '{ broken', { mode: 0o600 })
    now += 1000
    expect(() => store.signingKey()).toThrow(ConfigError)
    fs.rmSync(file)
    now += 1000
    expect(() => store.lookup('kanything')).toThrow(/cannot be read \(ENOENT\)/)
  })
})
