// Unit test of gateway-bounce through the real adapter, without Haraka: its
// declaration (both instances, the bounce hook), settings refused with file and
// key (a postmaster outside the accepted domains), and the bounce hook on a fake
// queued message: a DSN for a sender in an accepted domain goes to the sender
// with RFC 3464 recipient fields completed, one for a foreign sender is dropped
// or goes to the postmaster, none is made about a DSN; and the once-per-process
// rewrite of Haraka's DSN text (on a stand-in HMailItem class).
// The shared settings come from a temporary folder (GATEWAY_CONFIG_DIR), never
// from this checkout's config/.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { declarationOf } from '../../lib/plugin/declaration'
import { fakeQueuedMail, pluginHarness, testGatewayConfig } from '../../lib/plugin/testing'
import plugin from './plugin'

// loadSettings reads the process's shared configuration (gatewayConfig()): point it at ours first.
const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'bounce-test-'))
fs.writeFileSync(path.join(shared, 'gateway.ini'), '[internal]\nhosts[]=127.0.0.1:2526\n')
fs.writeFileSync(path.join(shared, 'accepted_domains'), 'example.com\n')
const savedConfigDir = process.env.GATEWAY_CONFIG_DIR
process.env.GATEWAY_CONFIG_DIR = shared
afterAll(() => {
  if (savedConfigDir === undefined) delete process.env.GATEWAY_CONFIG_DIR
  else process.env.GATEWAY_CONFIG_DIR = savedConfigDir
  fs.rmSync(shared, { recursive: true, force: true })
})

type Generator = (from: unknown, to: unknown, reason: unknown, header: unknown, cb: (err: unknown, lines?: string[]) => void) => void

/** Stand-in for Haraka's outbound/hmail HMailItem: the two prototype methods lib/haraka/hmail.ts checks. */
class FakeHMailItem {
  seenReason: unknown
  populate_bounce_message_with_headers(_from: unknown, _to: unknown, reason: unknown, _header: unknown, cb: (err: unknown, lines?: string[]) => void) {
    this.seenReason = reason
    cb(null, ['Reporting-MTA: dns; mx.example.com\r\n', 'Original-Envelope-Id: <abc@sender.test>\r\n', `Reason: ${String(reason)}\r\n`])
  }
  get_force_tls() {
    return false
  }
}

const harness = (ini?: string) => pluginHarness(plugin, { ini, gateway: testGatewayConfig(), haraka: { './outbound/hmail': FakeHMailItem } })

describe('gateway-bounce', () => {
  it('runs in both instances, at the bounce hook', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound', 'outbound'], hooks: ['bounce'] })
    expect(harness().hooks).toEqual(['bounce'])
  })

  it('refuses a postmaster outside the accepted domains, or not an address, naming file and key', () => {
    expect(() => harness('[foreign_sender]\naction=postmaster\npostmaster=pm@elsewhere.test\n')).toThrow(
      /gateway-bounce\.ini.*\[foreign_sender\] postmaster.*"pm@elsewhere\.test" must be an address in an accepted domain/,
    )
    expect(() => harness('[foreign_sender]\naction=postmaster\n')).toThrow(/gateway-bounce\.ini.*\[foreign_sender\] postmaster/)
    expect(() => harness('[foreign_sender]\naction=forward\n')).toThrow(/gateway-bounce\.ini:2.*\[foreign_sender\] action/)
  })

  it('a sender in an accepted domain gets the DSN, each recipient marked failed with a permanent status', async () => {
    const h = harness()
    const hmail = fakeQueuedMail({ domain: 'elsewhere.test', from: 'alice@Example.com', to: ['a@elsewhere.test', 'b@elsewhere.test'] })
    const [a, b] = hmail.todo.rcpt_to as (Haraka.Address & { dsn_status?: string; dsn_action?: string; dsn_remote_mta?: string })[]
    a!.dsn_status = '4.4.1' // retries ran out: permanent now
    a!.dsn_remote_mta = 'mx.elsewhere.test'
    expect(await h.run('bounce', hmail)).toEqual({ result: 'CONT' })
    expect(hmail.todo.mail_from.address).toBe('alice@Example.com')
    expect(a).toMatchObject({ dsn_action: 'failed', dsn_status: '5.4.1', dsn_remote_mta: 'dns; mx.elsewhere.test' })
    expect(b).toMatchObject({ dsn_action: 'failed', dsn_status: '5.0.0' })
    expect(hmail.log).toEqual([])
  })

  it('drops the DSN of a sender outside the accepted domains (the default), and logs it', async () => {
    const h = harness()
    const hmail = fakeQueuedMail({ domain: 'example.com', from: 'someone@sender.test', to: ['x@example.com'] })
    const answer = await h.run('bounce', hmail)
    expect(answer).toEqual({ result: 'OK' }) // OK from a bounce hook: Haraka sends no DSN
    expect(hmail.log).toEqual(['NOTICE [gateway-bounce] no DSN: sender someone@sender.test is outside the accepted domains (failed: x@example.com)'])
  })

  it('with action=postmaster the DSN of a foreign sender goes to the postmaster', async () => {
    const h = harness('[foreign_sender]\naction=postmaster\npostmaster=postmaster@example.com\n')
    const hmail = fakeQueuedMail({ domain: 'example.com', from: 'someone@sender.test', to: ['x@example.com'] })
    expect(await h.run('bounce', hmail)).toEqual({ result: 'CONT' })
    expect(hmail.todo.mail_from.address).toBe('postmaster@example.com')
    expect(hmail.log).toEqual([expect.stringContaining('goes to postmaster@example.com')])
  })

  it('makes no DSN about a DSN (null sender): left to Haraka, which discards it', async () => {
    const h = harness('[foreign_sender]\naction=postmaster\npostmaster=postmaster@example.com\n')
    const hmail = fakeQueuedMail({ domain: 'example.com', from: '', to: ['x@example.com'] })
    expect(await h.run('bounce', hmail)).toEqual({ result: 'CONT' })
    expect(hmail.todo.mail_from.isNull()).toBe(true)
    expect(hmail.log).toEqual([])
  })

  it("rewrites Haraka's DSN: the reason's text without \"Error:\", no Original-Envelope-Id", () => {
    harness()
    const item = new FakeHMailItem()
    const generate = FakeHMailItem.prototype.populate_bounce_message_with_headers as unknown as Generator
    let lines: string[] | undefined
    generate.call(item, 'from', 'to', new Error('550 5.1.1 no such user'), {}, (_err, l) => (lines = l))
    expect(item.seenReason).toBe('550 5.1.1 no such user')
    expect(lines).toEqual(['Reporting-MTA: dns; mx.example.com\r\n', 'Reason: 550 5.1.1 no such user\r\n'])
  })
})
