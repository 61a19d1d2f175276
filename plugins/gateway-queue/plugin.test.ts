// Unit test of gateway-queue through the real adapter, without Haraka: its
// declaration (both instances, five delivery-queue hooks), a setting refused
// with file, line and key, and the hooks on fake queued messages against a
// temporary instance folder (HARAKA) and queue folder: a held domain is not
// attempted (DELAY, recheck_seconds), a flush for another domain leaves a message
// on its own schedule, the last error of a deferred message is recorded and
// forgotten on bounce, and a message whose queue file an administrator deleted
// (`gateway queue delete` records its id first) gets an empty MX list at get_mx and
// is then dropped (no retry, no DSN); no other delivery costs a file-system call.
// The control files are read once and again only on a change (a few file reads
// over a thousand deliveries), a change is seen without a restart, and a flush
// signal makes the next delivery re-read them.
// Runs as the outbound instance (inbound also serves quarantine releases).

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it, vi } from 'vitest'

import { declarationOf } from '../../lib/plugin/declaration'
import { QueueControl } from '../../lib/queue/control'
import { fakeQueuedMail, pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'queue-test-'))
const instanceDir = path.join(root, 'outbound')
const queueDir = path.join(instanceDir, 'queue')
fs.mkdirSync(path.join(instanceDir, 'config'), { recursive: true })
fs.mkdirSync(queueDir)
const savedHaraka = process.env.HARAKA
process.env.HARAKA = instanceDir // setup() finds <instance>/queue-control through it
afterAll(() => {
  if (savedHaraka === undefined) delete process.env.HARAKA
  else process.env.HARAKA = savedHaraka
  fs.rmSync(root, { recursive: true, force: true })
})

const control = new QueueControl(instanceDir)
const harness = (ini?: string) => pluginHarness(plugin, { instance: 'outbound', ini, haraka: { './outbound/queue': { queue_dir: queueDir } } })

let counter = 0
/** A queued message with a fixed schedule in its name (arrival, next attempt), never taken from the clock. */
function queued(domain: string, nextAttempt = 1_700_000_000_000) {
  const uid = `uid${++counter}`
  const filename = `1700000000000_${nextAttempt}_0_4242_${uid}_1_mx.example.com`
  return { hmail: fakeQueuedMail({ domain, from: 'app@example.com', to: [`user@${domain}`], filename }), id: `${(1_700_000_000_000).toString(36)}${uid}`, filename }
}

/** fakeQueuedMail puts the file under the system temp folder; this one's is in our queue folder. */
function withFile(domain: string) {
  const q = queued(domain)
  const hmail = Object.assign(q.hmail, { path: path.join(queueDir, q.filename) })
  return { ...q, hmail }
}

describe('gateway-queue', () => {
  it('runs in both instances, with all five delivery-queue hooks', () => {
    expect(declarationOf(plugin)!.instances).toEqual(['inbound', 'outbound'])
    expect([...harness().hooks].sort()).toEqual(['bounce', 'deferred', 'delivered', 'get_mx', 'send_email'])
  })

  it('refuses a bad recheck interval with file, line and key', () => {
    expect(() => harness('[hold]\nrecheck_seconds=1\n')).toThrow(/gateway-queue\.ini:2.*\[hold\] recheck_seconds/)
  })

  it('does not attempt a held domain (DELAY recheck_seconds), and sends the others', async () => {
    const h = harness('[hold]\nrecheck_seconds=90\n')
    control.setHeld('held.test', true)
    try {
      const held = withFile('Held.test')
      expect(await h.run('send_email', held.hmail)).toEqual({ result: 'DELAY', value: '90' })
      expect(held.hmail.log).toEqual([`INFO [gateway-queue] not attempted: domain Held.test is held; next check in 90 s (${held.id})`])
      const other = withFile('other.test')
      expect(await h.run('send_email', other.hmail)).toEqual({ result: 'CONT' })
    } finally {
      control.setHeld('held.test', false)
    }
    // the release is seen without a restart (folder watch, or the check once a second)
    await vi.waitFor(async () => expect(await h.run('send_email', withFile('held.test').hmail)).toEqual({ result: 'CONT' }), { timeout: 5000, interval: 50 })
    await h.shutdown()
  })

  it('reads the control files once over 1000 deliveries, again after a change, and at once after a flush signal', async () => {
    control.setHeld('busy.test', true)
    const h = harness()
    // sync or async, a read or a stat of a control file is counted
    const spies = {
      reads: [vi.spyOn(fs, 'readFileSync'), vi.spyOn(fsp, 'readFile')],
      stats: [vi.spyOn(fs, 'statSync'), vi.spyOn(fsp, 'stat')],
    }
    const controlFiles = [path.join(control.dir, 'held-domains'), path.join(control.dir, 'flush-scope.json')]
    const count = (kind: keyof typeof spies) =>
      spies[kind].reduce((n, spy) => n + spy.mock.calls.filter((c: unknown[]) => controlFiles.includes(String(c[0]))).length, 0)
    try {
      const started = performance.now()
      for (let i = 0; i < 1000; i++) {
        const domain = i % 2 ? 'busy.test' : 'free.test'
        expect((await h.run('send_email', withFile(domain).hmail)).result).toBe(domain === 'busy.test' ? 'DELAY' : 'CONT')
      }
      const seconds = Math.ceil((performance.now() - started) / 1000)
      expect(count('reads')).toBe(1) // held-domains once; flush-scope.json does not exist (stat only)
      // a stat of each file at the first use and then at most once a second (or on a change event)
      expect(count('stats')).toBeLessThanOrEqual(2 * (1 + seconds))

      // a change: seen without a restart
      control.setHeld('busy.test', false) // (the command reads the list too)
      const written = count('reads')
      await vi.waitFor(async () => expect((await h.run('send_email', withFile('busy.test').hmail)).result).toBe('CONT'), { timeout: 5000, interval: 50 })
      expect(count('reads')).toBe(written + 1)

      // a flush signal: the very next delivery reads the files again (a hold written just before is obeyed)
      const before = count('reads')
      process.emit('SIGHUP', 'SIGHUP')
      expect((await h.run('send_email', withFile('busy.test').hmail)).result).toBe('CONT')
      expect(count('reads')).toBe(before + 1)
    } finally {
      for (const spy of [...spies.reads, ...spies.stats]) spy.mockRestore()
      await h.shutdown()
      control.setHeld('busy.test', false)
    }
  })

  it('a flush for one domain leaves a message of another domain on its own schedule', async () => {
    const h = harness()
    control.requestScopedFlush('flushed.test')
    try {
      const later = queued('other.test', 9_000_000_000_000) // scheduled far ahead
      const answer = await h.run('send_email', later.hmail)
      expect(answer.result).toBe('DELAY')
      expect(later.hmail.log).toEqual([expect.stringContaining('not attempted: flush was for flushed.test only')])
      expect(await h.run('send_email', queued('flushed.test', 9_000_000_000_000).hmail)).toEqual({ result: 'CONT' })
    } finally {
      control.clearScopedFlush()
    }
  })

  it('records the last error of a deferred message, and forgets it when the message bounces', async () => {
    const h = harness()
    const { hmail, id } = withFile('slow.test')
    fs.writeFileSync(hmail.path, '')
    expect(await h.run('get_mx', hmail)).toEqual({ result: 'CONT' })
    expect(await h.run('deferred', hmail, { err: '421 4.4.2 try later' })).toEqual({ result: 'CONT' })
    expect(control.lastError(id)).toMatchObject({ error: '421 4.4.2 try later', attempts: 0 })
    expect(await h.run('bounce', hmail)).toEqual({ result: 'CONT' })
    expect(control.lastError(id)).toBeNull()
  })

  it('a message whose queue file was deleted: empty MX list at get_mx, then dropped at deferred and bounce', async () => {
    const { hmail, filename, id } = withFile('gone.test') // no file written
    control.recordDeleted(id) // as `gateway queue delete` does before it removes the file
    const h = harness()
    expect(await h.run('get_mx', hmail)).toEqual({ result: 'OK', value: [] })
    expect(hmail.log).toEqual([`NOTICE [gateway-queue] queue file ${filename} was deleted by an administrator: dropped without delivery`])
    // OK from deferred and bounce: Haraka neither re-queues nor sends a DSN
    expect(await h.run('deferred', hmail, { err: 'no MX' })).toEqual({ result: 'OK' })
    expect(control.lastError(id)).toBeNull() // nothing recorded for a withdrawn message
    expect(await h.run('bounce', hmail)).toEqual({ result: 'OK' })
  })

  it('looks on disk only for messages `gateway queue delete` named: no file-system call per delivery', async () => {
    const h = harness()
    const access = vi.spyOn(fsp, 'access')
    try {
      const { hmail } = withFile('fine.test') // its file is not there, but no delete was recorded
      expect(await h.run('get_mx', hmail)).toEqual({ result: 'CONT' })
      expect(access).not.toHaveBeenCalled()
    } finally {
      access.mockRestore()
    }
  })
})
