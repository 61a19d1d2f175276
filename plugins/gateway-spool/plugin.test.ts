// Unit test of gateway-spool through the real adapter, without Haraka: its
// declaration (both instances; its answer ends the queue hooks), a setting
// refused with file, line and key, and the queue hooks with a stand-in for
// Haraka's outbound module (send_trans_email) and a temporary instance folder
// (HARAKA): a queued message gets "250 2.0.0 Message queued" after the checks'
// decisions are written into X-Gateway-* headers (tag: Subject prefix); a spool
// failure is 451 4.3.0, not Haraka's 550; no free space past the reserve is
// 452 4.3.1; a message a check quarantined goes to the quarantine folder, with
// the same answer, and is not queued.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import * as constants from 'haraka-constants'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'

import { declarationOf } from '../../lib/plugin/declaration'
import { fakeConnection, fakeTransaction, pluginHarness } from '../../lib/plugin/testing'
import { decide } from '../../lib/policy/actions'
import { QuarantineStore } from '../../lib/quarantine/store'
import { reply } from '../../lib/smtp/reply'
import plugin from './plugin'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'))
const instanceDir = path.join(root, 'inbound')
const queueDir = path.join(instanceDir, 'queue')
fs.mkdirSync(path.join(instanceDir, 'config'), { recursive: true })
fs.mkdirSync(queueDir)
const savedHaraka = process.env.HARAKA
process.env.HARAKA = instanceDir // the quarantine folder is <instance>/quarantine (its gateway-spool.ini has none)
afterAll(() => {
  if (savedHaraka === undefined) delete process.env.HARAKA
  else process.env.HARAKA = savedHaraka
  fs.rmSync(root, { recursive: true, force: true })
})

/** What send_trans_email was given, and what it answers next. */
const outbound = {
  queued: [] as Haraka.Transaction[],
  answer: [constants.ok, undefined] as [number, string | undefined],
  send_trans_email(txn: Haraka.Transaction, cb: (code: number, msg?: string) => void) {
    outbound.queued.push(txn)
    cb(...outbound.answer)
  },
}
beforeEach(() => {
  outbound.queued = []
  outbound.answer = [constants.ok, undefined]
})

const harness = (ini?: string) => pluginHarness(plugin, { ini, haraka: { './outbound': outbound, './outbound/queue': { queue_dir: queueDir } } })
const message = { from: 'a@sender.test', to: ['user@example.com'], headers: ['From: a@sender.test', 'Subject: hello', 'Message-ID: <m1@sender.test>'], body: 'Hello.\n' }
const QUEUED = { result: 'OK', value: '2.0.0 Message queued' }
const finding = (check: string) => ({ check, result: 'found', reply: reply(554, '5.7.1', 'no'), tag: `${check} tag` })

describe('gateway-spool', () => {
  it('runs in both instances, and its answer ends the queue hooks', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound', 'outbound'], hooks: ['queue', 'queue_outbound'], order: { endsChain: ['queue', 'queue_outbound'] } })
    expect(harness().hooks).toEqual(['queue', 'queue_outbound'])
  })

  it('refuses a bad setting with file, line and key', () => {
    expect(() => harness('[queue]\nmin_free_mb=-1\n')).toThrow(/gateway-spool\.ini:2.*\[queue\] min_free_mb/)
  })

  it('queues the message (250 2.0.0 Message queued) with nothing added when no check decided anything', async () => {
    const h = harness('[queue]\nmin_free_mb=0\n')
    const c = fakeConnection()
    const txn = fakeTransaction(c, message)
    expect(await h.run('queue', c)).toEqual(QUEUED)
    expect(outbound.queued).toEqual([txn])
    expect(txn.header.get('X-Gateway-Checks')).toBe('')
  })

  it("writes the checks' decisions into the header before queueing; a tag prefixes the Subject", async () => {
    const h = harness('[queue]\nmin_free_mb=0\n[tag]\nsubject_prefix=[SUSPECT]\n')
    const c = fakeConnection()
    const txn = fakeTransaction(c, message)
    decide({ name: 'gateway-content' }, c, finding('attachment'), 'monitor')
    decide({ name: 'gateway-spam' }, c, finding('spam'), 'tag')
    expect(await h.run('queue_outbound', c)).toEqual(QUEUED)
    expect(txn.header.get('X-Gateway-Checks')).toBe('attachment=found (monitor); spam=found (tag)')
    expect(txn.header.get('X-Gateway-Tag')).toBe('spam: spam tag')
    expect(txn.header.get_all('Subject')).toEqual(['[SUSPECT] hello'])
  })

  it('a spool failure is 451 4.3.0 (the sender retries), logged', async () => {
    const h = harness('[queue]\nmin_free_mb=0\n')
    outbound.answer = [constants.denysoft, 'disk on fire']
    const c = fakeConnection()
    fakeTransaction(c, message)
    expect(await h.run('queue', c)).toEqual({ result: 'DENYSOFT', reply: '451 4.3.0 Temporary local problem, please try again later' })
    expect(c.log).toEqual(['ERROR [gateway-spool] spooling failed: disk on fire'])
  })

  it('below the free-space reserve: 452 4.3.1, nothing queued', async () => {
    const h = harness('[queue]\nmin_free_mb=1000000000\n') // a reserve no disk has
    const c = fakeConnection()
    fakeTransaction(c, message)
    expect(await h.run('queue', c)).toEqual({ result: 'DENYSOFT', reply: '452 4.3.1 Insufficient system storage, please try again later' })
    expect(outbound.queued).toEqual([])
    expect(c.log).toEqual([expect.stringMatching(/^ERROR \[gateway-spool\] not enough free space in .*queue .*reserve 1000000000 MiB/)])
  })

  it('a quarantined message goes to the quarantine, with the same answer, and is not queued', async () => {
    const h = harness('[queue]\nmin_free_mb=0\n')
    const c = fakeConnection()
    fakeTransaction(c, message)
    decide({ name: 'gateway-content' }, c, finding('archive'), 'quarantine')
    expect(await h.run('queue', c)).toEqual(QUEUED)
    expect(outbound.queued).toEqual([])
    const store = new QuarantineStore(path.join(instanceDir, 'quarantine'))
    const [entry, ...more] = store.list()
    expect(more).toEqual([])
    expect(entry).toMatchObject({ from: 'a@sender.test', to: ['user@example.com'], check: 'archive', result: 'found', messageId: '<m1@sender.test>', subject: 'hello' })
    expect(c.log.filter((l) => l.includes('[gateway-spool]'))).toEqual([`NOTICE [gateway-spool] quarantined as ${entry!.id} (archive: found)`])
    // the message as stored: with the decisions written in, as a mail client would see it
    const stored = store.get(entry!.id)!.message.toString()
    expect(stored).toMatch(/^X-Gateway-Checks: archive=found \(quarantine\)\r\n/)
    expect(stored).toMatch(/\r\n\r\nHello\.\r\n$/)
  })
})
