// Issue 12: no synchronous file-system work per message that bare Haraka does not
// do. Both instances run with a preload that counts every synchronous fs call per
// path (test/helpers/count-sync-fs.cjs); after N messages through each (inbound to
// the internal server, outbound relayed and DKIM-signed to a remote MX, one
// connection per message as most senders do; outbound also from a domain without a
// DKIM key, sent unsigned) no path may have been touched N times or more: whatever is
// read per message must come from memory. Regressions caught: config/me and
// config/results.ini looked for on the disk per connection and per delivery (Haraka
// re-checks missing config files), a stat() of the DKIM key folder per relayed
// message, and of the missing key folder of a domain that has none.

import { generateKeyPairSync } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it, vi } from 'vitest'

import { delivered, outboundWithPartnerMx, sendOne } from './helpers/fixtures'
import { addUser, outboundPlugins, relayOne } from './helpers/outbound-relay'

const MESSAGES = 20
const PASSWORD = 'per message fs 1'
const countsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-sync-fs-'))
afterAll(() => fs.rmSync(countsDir, { recursive: true, force: true }))

const { internal, remoteMx, gw } = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  acceptedDomains: ['example.com', 'example.net'],
  files: { 'outbound/config/plugins': outboundPlugins({ scrub: true, dkim: true, nodelay: true }) },
  env: { NODE_OPTIONS: `--require ${path.join(__dirname, 'helpers', 'count-sync-fs.cjs')}`, GATEWAY_TEST_SYNC_FS_DIR: countsDir },
  prepare: ({ gw }) => {
    // a signing key for example.com, as `gateway dkim keygen` lays it out
    const keyDir = path.join(gw.root, 'outbound', 'config', 'dkim', 'example.com')
    fs.rmSync(path.dirname(keyDir), { recursive: true, force: true })
    fs.mkdirSync(keyDir, { recursive: true })
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    fs.writeFileSync(path.join(keyDir, 'private'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
    fs.writeFileSync(path.join(keyDir, 'selector'), 'perf\n')
    addUser(gw, 'app@example.com', PASSWORD)
    addUser(gw, 'relay', PASSWORD) // a server's account: any sender of the accepted domains
  },
})

type Counts = Record<string, number>

/**
 * Known and left alone: haraka-plugin-dkim reads the signing key and selector per
 * message through haraka-config, which looks for the plugin package's own default
 * copy of each (never there, so never remembered) before the instance's (read once
 * and kept): two existsSync per signed message, as in any Haraka that signs.
 */
const UPSTREAM_PER_MESSAGE = /^existsSync .*\/node_modules\/haraka-plugin-dkim\/config\/dkim\/[^/]+\/(private|selector)$/

/** The counts of the instance's Haraka process (child processes it ran at startup write their own): call and path -> calls. */
function countsOf(instance: string, pid: number, suffix = ''): Counts {
  return JSON.parse(fs.readFileSync(path.join(countsDir, `${instance}-${pid}${suffix}.json`), 'utf8')) as Counts
}

/** What the instance has counted so far (startup), asked for with SIGUSR2. */
async function snapshot(instance: string, pid: number): Promise<Counts> {
  process.kill(pid, 'SIGUSR2')
  const file = path.join(countsDir, `${instance}-${pid}.snapshot.json`)
  await vi.waitFor(() => expect(fs.existsSync(file)).toBe(true), { timeout: 5_000, interval: 20 })
  return countsOf(instance, pid, '.snapshot')
}

describe('synchronous file-system work per message', () => {
  it(`touches no path once per message over ${MESSAGES} messages through each instance`, async () => {
    const pids = { inbound: gw.pid('inbound'), outbound: gw.pid('outbound') }
    const atStart = { inbound: await snapshot('inbound', pids.inbound), outbound: await snapshot('outbound', pids.outbound) }
    for (let i = 0; i < MESSAGES; i++) {
      const inbound = await sendOne(gw, { from: 'sender@sender.test', to: ['bob@example.com'] })
      expect(inbound.end?.code, inbound.end?.text).toBe(250)
      await delivered(internal, inbound.marker)
      const relayed = await relayOne(gw, { user: 'app@example.com', password: PASSWORD, from: 'app@example.com', to: ['someone@partner.test'] })
      expect(relayed.end?.code, relayed.end?.text).toBe(250)
      const got = await delivered(remoteMx, relayed.marker)
      expect(got.raw).toMatch(/^DKIM-Signature:[^]*?\bd=example\.com;/m) // signed: the key folder was found
      // example.net has no key folder: sent unsigned, and its absence is not looked up per message
      const unsigned = await relayOne(gw, { user: 'relay', password: PASSWORD, from: 'app@example.net', to: ['someone@partner.test'] })
      expect(unsigned.end?.code, unsigned.end?.text).toBe(250)
      expect((await delivered(remoteMx, unsigned.marker)).raw).not.toMatch(/^DKIM-Signature:/m)
    }
    // the final counts are written at exit
    await gw.stopInstance('inbound')
    await gw.stopInstance('outbound')
    for (const instance of ['inbound', 'outbound'] as const) {
      const counts = countsOf(instance, pids[instance])
      const perMessage = Object.entries(counts)
        .map(([call, n]) => [call, n - (atStart[instance][call] ?? 0)] as const)
        .filter(([call, n]) => n >= MESSAGES && !UPSTREAM_PER_MESSAGE.test(call))
      expect(perMessage, `${instance}: synchronous fs calls made per message`).toEqual([])
      // the counter works: startup read the plugin list
      expect(Object.keys(atStart[instance]).some((k) => k.startsWith('readFileSync') && k.endsWith(path.join('config', 'plugins')))).toBe(true)
    }
  })
})
