// Unit tests of the plugin's view of the queue-control files: read once and kept,
// a change seen through the folder watch, refresh() (a flush) reading at once, the
// flush scope's time limit, and a damaged scope file failing without sticking.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { FLUSH_SCOPE_TTL_MS, QueueControl } from './control'
import { QueueControlCache } from './control-cache'

const open: QueueControlCache[] = []
const dirs: string[] = []
function setup(): { control: QueueControl; cache: QueueControlCache; warnings: string[] } {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'qcache-'))
  dirs.push(d)
  const control = new QueueControl(d)
  const warnings: string[] = []
  // an hour between checks without an event: only the watch or refresh() can show a change
  const cache = new QueueControlCache(control, (m) => warnings.push(m), { recheckMs: 3_600_000 })
  open.push(cache)
  return { control, cache, warnings }
}
afterEach(() => {
  for (const c of open.splice(0)) c.close()
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('QueueControlCache', () => {
  it('creates the folder, starts empty, and sees a hold through the folder watch', async () => {
    const { control, cache, warnings } = setup()
    expect(fs.existsSync(control.dir)).toBe(true)
    expect([...cache.heldDomains()]).toEqual([])
    expect(cache.flushScope()).toBeNull()
    control.setHeld('partner.test', true)
    await vi.waitFor(() => expect([...cache.heldDomains()]).toEqual(['partner.test']), { timeout: 5000, interval: 20 })
    expect(warnings).toEqual([])
  })

  it('sees a `gateway queue delete` through the folder watch (appended ids)', async () => {
    const { control, cache } = setup()
    expect(cache.deletedIds().size).toBe(0)
    control.recordDeleted('abc1')
    control.recordDeleted('abc2')
    await vi.waitFor(() => expect([...cache.deletedIds()].sort()).toEqual(['abc1', 'abc2']), { timeout: 5000, interval: 20 })
  })

  it('refresh() makes the next use read what was just written, without waiting for an event', () => {
    const { control, cache } = setup()
    expect(cache.heldDomains().size).toBe(0)
    control.setHeld('a.test', true)
    control.requestScopedFlush('a.test', 5000)
    cache.refresh() // no await in between: no watch event can have been handled
    expect([...cache.heldDomains()]).toEqual(['a.test'])
    expect(cache.flushScope(5000 + FLUSH_SCOPE_TTL_MS)).toEqual({ domain: 'a.test', at: 5000 })
    expect(cache.flushScope(5001 + FLUSH_SCOPE_TTL_MS)).toBeNull() // too old: no scope
  })

  it('a damaged scope file throws, and is read again at the next use once repaired', () => {
    const { control, cache } = setup()
    fs.writeFileSync(control.scopeFile, '{"domain":')
    cache.refresh()
    expect(() => cache.flushScope()).toThrow()
    fs.writeFileSync(control.scopeFile, JSON.stringify({ domain: 'b.test', at: 7 }))
    expect(cache.flushScope(7)).toEqual({ domain: 'b.test', at: 7 })
  })
})
