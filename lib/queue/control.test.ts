// Unit tests for the queue-control folder: held domains, flush scope, last errors, deleted ids, queue_dir.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { DELETED_KEEP_MS, FLUSH_SCOPE_TTL_MS, parseDeleted, QueueControl, queueDir } from './control'

const dirs: string[] = []
function instance(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'qctl-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('QueueControl', () => {
  it('holds and releases domains, normalised, in a file the plugin reads', async () => {
    const c = new QueueControl(instance())
    expect(c.setHeld('Partner.Test.', true)).toBe(true)
    expect(c.setHeld('partner.test', true)).toBe(false)
    expect(c.setHeld('other.test', true)).toBe(true)
    expect([...(await c.heldDomainsAsync())]).toEqual(['other.test', 'partner.test'])
    expect(c.setHeld('PARTNER.test', false)).toBe(true)
    expect([...c.heldDomains()]).toEqual(['other.test'])
    expect(() => c.setHeld('not a domain', true)).toThrow(/not a domain name/)
  })

  it('a single-domain flush applies for a limited time only', async () => {
    const c = new QueueControl(instance())
    expect(await c.flushScope()).toBeNull()
    c.requestScopedFlush('Slow.Test', 1000)
    expect(await c.flushScope(1000 + FLUSH_SCOPE_TTL_MS)).toEqual({ domain: 'slow.test', at: 1000 })
    expect(await c.flushScope(1001 + FLUSH_SCOPE_TTL_MS)).toBeNull()
    c.clearScopedFlush()
    expect(await c.flushScope(1000)).toBeNull()
  })

  it('records, reads, forgets and prunes last errors; refuses path-like IDs', async () => {
    const c = new QueueControl(instance())
    await c.recordError('abc1', { error: 'Tried all MXs', at: 5, attempts: 2 })
    await c.recordError('gone2', { error: 'x', at: 5, attempts: 1 })
    expect(c.lastError('abc1')).toEqual({ error: 'Tried all MXs', at: 5, attempts: 2 })
    expect(await c.pruneErrors(new Set(['abc1']))).toBe(1)
    expect(c.lastError('gone2')).toBeNull()
    await c.forgetError('abc1')
    expect(c.lastError('abc1')).toBeNull()
    await expect(c.recordError('../x', { error: 'x', at: 1, attempts: 1 })).rejects.toThrow(/invalid queue id/)
  })
})

describe('queueDir', () => {
  it('remembers deleted ids by appending, forgets them after DELETED_KEEP_MS once the file has grown, refuses path-like IDs', () => {
    const c = new QueueControl(instance())
    c.recordDeleted('old1', 1_000)
    c.recordDeleted('new1', 1_000 + DELETED_KEEP_MS)
    expect(parseDeleted(fs.readFileSync(c.deletedFile, 'utf8'))).toEqual(new Set(['old1', 'new1']))
    // grown past the rewrite size: entries older than the keep time go, the rest stay
    fs.appendFileSync(c.deletedFile, `${'x'.repeat(70_000)}\n`)
    c.recordDeleted('new2', 1_001 + DELETED_KEEP_MS)
    expect(parseDeleted(fs.readFileSync(c.deletedFile, 'utf8'))).toEqual(new Set(['new1', 'new2']))
    expect(() => c.recordDeleted('../x')).toThrow(/invalid queue id/)
    expect(parseDeleted('constructor 5\n__proto__ 6\nbad line\n')).toEqual(new Set(['constructor']))
  })

  it('is <instance>/queue unless config/queue_dir names another folder', () => {
    const d = instance()
    expect(queueDir(d)).toBe(path.join(d, 'queue'))
    fs.mkdirSync(path.join(d, 'config'))
    fs.writeFileSync(path.join(d, 'config', 'queue_dir'), '# where\n/var/spool/gw-out\n')
    expect(queueDir(d)).toBe('/var/spool/gw-out')
  })
})
