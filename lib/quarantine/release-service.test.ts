// Unit tests for the instance's side of a release, with Haraka's real transaction
// module and a stand-in for its delivery queue: what is queued (envelope, bytes),
// and that a message leaves the quarantine only once the queue took it.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'

import * as constants from 'haraka-constants'
import { afterEach, describe, expect, it } from 'vitest'

import { readMessage, Releaser, settleInterruptedReleases, type ReleaseTransaction, type TransactionModule } from './release-service'
import { QuarantineStore } from './store'

const transactions = require('haraka/transaction') as TransactionModule

const dirs: string[] = []
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'release-svc-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const MESSAGE = Buffer.from('Subject: Grüße\r\nX-Gateway-Checks: recipient=unknown (quarantine)\r\n\r\n.leading dot\r\n.\r\nbody\r\n')

function logger(): { lines: string[]; lognotice(m: string): void; logwarn(m: string): void; logerror(m: string): void } {
  const lines: string[] = []
  const push = (m: string) => void lines.push(m)
  return { lines, lognotice: push, logwarn: push, logerror: push }
}

/** A quarantine with one message, and a releaser whose delivery queue answers `code`. */
async function setup(opts: { code?: number; reserveBytes?: number; to?: string[] } = {}) {
  const store = new QuarantineStore(path.join(tmp(), 'quarantine'))
  const meta = { from: 'jörg@sender.test', to: opts.to ?? ['zoë@example.com', 'bob@example.org'], check: 'recipient', result: 'unknown', remoteIp: '192.0.2.1', helo: 'mx', messageId: '', subject: '' }
  const { id } = await store.put(meta, Readable.from([MESSAGE]))
  const queued: ReleaseTransaction[] = []
  const outbound: Haraka.Outbound = {
    send_trans_email(txn, next) {
      queued.push(txn as ReleaseTransaction)
      next(opts.code ?? constants.ok, opts.code === constants.denysoft ? 'Queueing failed' : undefined)
    },
  }
  const log = logger()
  const releaser = new Releaser({ store, outbound, transactions, queueDir: tmp(), reserveBytes: opts.reserveBytes ?? 0, log })
  return { store, id, queued, releaser, log }
}

const request = (id: string) => ({ id, by: 'admin', at: new Date().toISOString() })

describe('Releaser', () => {
  it('queues the original envelope and the stored bytes plus X-Gateway-Released, then removes the message', async () => {
    const { store, id, queued, releaser } = await setup()
    const answer = await releaser.release(request(id))
    expect(answer).toEqual({ ok: true, uuid: expect.stringMatching(/^[0-9A-F-]{36}$/) })
    expect(queued).toHaveLength(1)
    const txn = queued[0]!
    expect(txn.uuid).toBe(answer.ok ? answer.uuid : '')
    expect([txn.mail_from.address, txn.rcpt_to.map((r) => r.address)]).toEqual(['jörg@sender.test', ['zoë@example.com', 'bob@example.org']])
    const bytes = await readMessage(txn)
    const first = bytes.subarray(0, bytes.indexOf('\r\n') + 2).toString()
    expect(first).toMatch(/^X-Gateway-Released: .+ GMT by admin \(was recipient: unknown\)\r\n$/)
    expect(bytes.subarray(first.length).equals(MESSAGE)).toBe(true)
    expect(fs.readdirSync(store.dir)).toEqual([])
  })

  it('keeps the message quarantined, as it was, when the queue does not take it', async () => {
    const { store, id, releaser, log } = await setup({ code: constants.denysoft })
    const before = store.get(id)
    expect(await releaser.release(request(id))).toEqual({ ok: false, gone: false, error: expect.stringMatching(/^the delivery queue did not take it: Queueing failed/) })
    expect(store.get(id)).toEqual(before)
    expect(log.lines).toEqual([expect.stringMatching(new RegExp(`^release of ${id} failed, it stays quarantined`))])
  })

  it('refuses before queueing when the disk is short of its reserve or the envelope has no recipient', async () => {
    for (const opts of [{ reserveBytes: Number.MAX_SAFE_INTEGER }, { to: [] }]) {
      const { store, id, queued, releaser } = await setup(opts)
      const answer = await releaser.release(request(id))
      expect(answer).toEqual({ ok: false, gone: false, error: expect.stringMatching(/not enough free space|no recipient/) })
      expect(queued).toEqual([])
      expect(store.get(id)).toBeDefined()
    }
  })

  it('answers "gone" for a message that is not (or no longer) quarantined', async () => {
    const { id, releaser } = await setup()
    expect((await releaser.release(request(id))).ok).toBe(true)
    expect(await releaser.release(request(id))).toEqual({ ok: false, gone: true, error: `no quarantined message ${id} (released or deleted meanwhile)` })
    expect((await releaser.release(request('nosuchmessage0'))).ok).toBe(false)
  })
})

describe('settleInterruptedReleases', () => {
  /** A queue file in Haraka's format whose todo carries transaction `uuid`. */
  function queueFile(dir: string, uuid: string): void {
    const header = Buffer.from(`\n${JSON.stringify({ domain: 'example.com', rcpt_to: [{ user: 'a', host: 'example.com' }], mail_from: { user: 'b', host: 'x.test' }, notes: {}, uuid: `${uuid}.1` })}\n`)
    const len = Buffer.alloc(4)
    len.writeUInt32BE(header.length)
    fs.writeFileSync(path.join(dir, `1_1_0_1_abcdef_1_test`), Buffer.concat([len, header, Buffer.from('\r\n')]))
  }

  it('finishes a release whose transaction is queued and quarantines the others again', async () => {
    const store = new QuarantineStore(path.join(tmp(), 'quarantine'))
    const meta = { from: 'a@x.test', to: ['b@example.com'], check: 'spam', result: 'reject', remoteIp: '', helo: '', messageId: '', subject: '' }
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await store.put(meta, Readable.from([MESSAGE]))).id)
    const [queuedId, notQueuedId, unmarkedId] = ids as [string, string, string]
    for (const id of ids) store.claim(id)
    await store.markReleasing(queuedId, { uuid: 'QUEUED-UUID', at: '', by: 'admin' })
    await store.markReleasing(notQueuedId, { uuid: 'LOST-UUID', at: '', by: 'admin' })
    const queueDir = tmp()
    queueFile(queueDir, 'QUEUED-UUID')
    const log = logger()

    await settleInterruptedReleases(store, queueDir, log)
    expect(store.list().map((e) => e.id).sort()).toEqual([notQueuedId, unmarkedId].sort())
    expect(store.get(queuedId)).toBeUndefined()
    expect(store.interrupted()).toEqual([])
    expect(log.lines).toHaveLength(3)
    expect(log.lines.find((l) => l.includes(notQueuedId))).toMatch(/releasing it again delivers it twice/)
  })
})
