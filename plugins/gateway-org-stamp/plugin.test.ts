// Unit test of gateway-org-stamp through the real adapter: one signed header with
// the message's decisions, a forged one replaced, and a missing key file answered
// 451 4.3.0 (the message waits; it never leaves unstamped).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { verifyOrgHeader, type KeyLookup } from '../../lib/org/header'
import { readKeyFile } from '../../lib/org/key-file'
import { orgFieldValues } from '../../lib/org/message-fields'
import { definitionOf } from '../../lib/plugin/define'
import { orderProblems } from '../../lib/plugin/order'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import { record } from '../../lib/policy/record'
import plugin from './plugin'

let dir: string
let keyFile: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'org-stamp-'))
  keyFile = path.join(dir, 'org-keys.json')
  process.env.GATEWAY_ORG_KEY_FILE = keyFile // read by the shared settings the harness builds
})
afterAll(() => {
  delete process.env.GATEWAY_ORG_KEY_FILE
  fs.rmSync(dir, { recursive: true, force: true })
})

const keyFor = (kid: string): KeyLookup => {
  const k = readKeyFile(keyFile).keys.find((x) => x.id === kid)
  return k ? { state: 'valid', secret: k.secret } : { state: 'unknown' }
}

describe('gateway-org-stamp', () => {
  it('adds one signed header with the decisions and SCL, replacing one that did not come from us', async () => {
    const h = pluginHarness(plugin)
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600) // created at setup
    const c = fakeConnection()
    const txn = fakeTransaction(c, {
      from: 'a@sender.test',
      to: ['u@example.com'],
      headers: ['Message-ID: <m1@sender.test>', 'X-Gateway-Org: v=1; forged', 'X-Gateway-SCL: 6'],
    })
    record({ name: 'gateway-spam' }, c, { check: 'spam', result: 'scl_6', action: 'tag' })
    record({ name: 'gateway-dmarc' }, c, { check: 'constructor', result: '__proto__', action: 'monitor' })
    expect(await h.run('queue', c)).toEqual({ result: 'CONT' })
    const values = orgFieldValues(txn.header.header_list)
    expect(values).toHaveLength(1)
    const v = verifyOrgHeader(values[0]!, { messageIds: ['<m1@sender.test>'], keyFor, now: Date.now(), maxAgeSeconds: 60 })
    expect(v).toMatchObject({
      ok: true,
      fields: {
        id: txn.uuid,
        scl: 6,
        checks: [
          { check: 'spam', result: 'scl_6', action: 'tag' },
          { check: 'constructor', result: '__proto__', action: 'monitor' },
        ],
      },
    })
    expect(c.log).toContain('NOTICE [gateway-org-stamp] removed 1 X-Gateway-Org field(s) that did not come from this gateway')
  })

  it('without a readable key file: 451 4.3.0 and a log line naming the plugin, no secret in the log', async () => {
    const h = pluginHarness(plugin)
    const secret = readKeyFile(keyFile).keys[0]!.secret.toString('base64')
    fs.chmodSync(keyFile, 0o644)
    await new Promise((r) => setTimeout(r, 1100)) // the store looks at the file once a second
    const c = fakeConnection()
    const txn = fakeTransaction(c, { from: 'a@sender.test', to: ['u@example.com'], headers: ['Message-ID: <m2@sender.test>'] })
    expect(await h.run('queue', c)).toEqual({ result: 'DENYSOFT', reply: '451 4.3.0 Temporary local problem, please try again later' })
    expect(orgFieldValues(txn.header.header_list)).toEqual([])
    expect(c.log.join('\n')).toMatch(/\[gateway-org-stamp\].*queue.*accessible to group or others/)
    expect(c.log.join('\n')).not.toContain(secret)
    fs.chmodSync(keyFile, 0o600)
  })

  it('refuses to start on a corrupt key file (one ConfigError naming the file)', () => {
    const broken = path.join(dir, 'broken.json')
    fs.writeFileSync(broken, '[]', { mode: 0o600 })
    process.env.GATEWAY_ORG_KEY_FILE = broken
    try {
      expect(() => pluginHarness(plugin)).toThrow(/broken\.json: X-Gateway-Org key file is not a JSON object/)
    } finally {
      process.env.GATEWAY_ORG_KEY_FILE = keyFile
    }
  })
})

describe('gateway-org-stamp order', () => {
  it('must precede gateway-spool (whose answer ends the queue hook)', () => {
    const def = definitionOf(plugin)
    const list = [
      { name: 'gateway-spool', line: 1 },
      { name: def.name, line: 2, hooks: def.hooks, order: def.order },
    ]
    expect(orderProblems(list, 'inbound')).toEqual([{ name: 'gateway-org-stamp', line: 2, problem: expect.stringContaining('must come before gateway-spool (line 1)') }])
  })
})
