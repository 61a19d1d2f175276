// Unit test of the message spool folder gateway-core prepares at startup: created
// owner-only under the deployment root and handed to Haraka (connection.js's
// parsed connection.ini) as an absolute path, narrowed when it existed, emptied
// of what a killed run left, and refused with the file and key when unset.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { useMessageSpool } from './message-spool'

let root: string
const saved = { HARAKA: process.env.HARAKA, GATEWAY_ROOT: process.env.GATEWAY_ROOT }

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'message-spool-'))
  fs.mkdirSync(path.join(root, 'inbound', 'config'), { recursive: true })
  process.env.HARAKA = path.join(root, 'inbound')
  process.env.GATEWAY_ROOT = root
})

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  fs.rmSync(root, { recursive: true, force: true })
})

/** connection.js as haraka_require gives it (its parsed connection.ini), and a source that serves it. */
function haraka(main: Record<string, unknown> = { spool_dir: 'var/spool/inbound', spool_after: 262144 }) {
  const connection = { cfg: { main } }
  return { connection, source: { haraka_require: (p: string) => (p === './connection' ? connection : undefined) } }
}

describe('the message spool folder', () => {
  it('is created owner-only under the deployment root, and Haraka gets its absolute path', () => {
    const { connection, source } = haraka()
    const spool = useMessageSpool(source, true)
    const dir = path.join(root, 'var', 'spool', 'inbound')
    expect(spool).toEqual({ dir, after: 262144 })
    expect(connection.cfg.main.spool_dir).toBe(dir)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('is narrowed to 0700 when it existed', () => {
    const dir = path.join(root, 'var', 'spool', 'inbound')
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
    fs.chmodSync(dir, 0o755)
    useMessageSpool(haraka().source, true)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('loses the spool files a killed run left, and nothing else; a cluster worker removes nothing', () => {
    const dir = path.join(root, 'var', 'spool', 'inbound')
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'A1B2C3D4-0000-4000-8000-000000000000.1.eml'), 'a whole message')
    fs.writeFileSync(path.join(dir, 'README'), 'kept')
    useMessageSpool(haraka().source, false)
    expect(fs.readdirSync(dir).sort()).toEqual(['A1B2C3D4-0000-4000-8000-000000000000.1.eml', 'README'])
    useMessageSpool(haraka().source, true)
    expect(fs.readdirSync(dir)).toEqual(['README'])
  })

  it('refuses to start without spool_dir or with a bad spool_after, naming connection.ini and the key', () => {
    expect(() => useMessageSpool(haraka({ spool_after: 262144 }).source, true)).toThrow(/connection\.ini: \[main\] spool_dir: not set: large messages would be spooled to \/tmp/)
    expect(() => useMessageSpool(haraka({ spool_dir: 'var/spool/inbound' }).source, true)).toThrow(/connection\.ini: \[main\] spool_after: not set/)
    expect(() => useMessageSpool(haraka({ spool_dir: 'var/spool/inbound', spool_after: 'lots' }).source, true)).toThrow(/\[main\] spool_after: "lots" is not a size in bytes/)
  })
})
