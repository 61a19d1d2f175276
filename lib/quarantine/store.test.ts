// Unit tests for the quarantine store's release steps: one claimant wins, a
// claimed message is out of view, and every way out (queued, refused, interrupted)
// leaves it either in the quarantine or not, never half.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'

import { afterEach, describe, expect, it } from 'vitest'

import { QuarantineStore } from './store'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

async function storeWithOne(): Promise<{ store: QuarantineStore; id: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarantine-'))
  dirs.push(dir)
  const store = new QuarantineStore(dir)
  const meta = { from: 'jörg@sender.test', to: ['zoë@example.com'], check: 'recipient', result: 'unknown', remoteIp: '192.0.2.1', helo: 'mx', messageId: '<m@x>', subject: 's' }
  const entry = await store.put(meta, Readable.from([Buffer.from('Subject: s\r\n\r\nbody\r\n')]))
  return { store, id: entry.id }
}

const mark = { uuid: 'ABC', at: '2026-12-01T00:00:00.000Z', by: 'admin' }

describe('QuarantineStore release', () => {
  it('gives a message to one claimant only and hides it from list, get and delete meanwhile', async () => {
    const { store, id } = await storeWithOne()
    const held = store.claim(id)
    expect(held?.entry.to).toEqual(['zoë@example.com'])
    expect(held?.message.toString()).toBe('Subject: s\r\n\r\nbody\r\n')
    expect(store.claim(id)).toBeUndefined()
    expect(store.list()).toEqual([])
    expect(store.get(id)).toBeUndefined()
    expect(store.delete(id)).toBe(false)
    expect(store.claim('../../etc/passwd')).toBeUndefined()
  })

  it('removes a queued message, and restores a refused one exactly as it was', async () => {
    const { store, id } = await storeWithOne()
    const before = store.get(id)!
    store.claim(id)
    await store.markReleasing(id, mark)
    await store.restore(id)
    expect(store.get(id)).toEqual(before)
    expect(fs.readdirSync(store.dir).sort()).toEqual([`${id}.eml`, `${id}.json`])

    store.claim(id)
    await store.finishRelease(id)
    expect(fs.readdirSync(store.dir)).toEqual([])
  })

  it('reports releases a stop interrupted, with the queue transaction once it was recorded', async () => {
    const { store, id } = await storeWithOne()
    const { entry } = store.get(id)!
    expect(store.interrupted()).toEqual([])
    store.claim(id)
    expect(store.interrupted()).toEqual([{ id, entry, mark: undefined }])
    await store.markReleasing(id, mark)
    expect(store.interrupted()).toEqual([{ id, entry, mark }])
  })

  it('at startup, removes a message a stop left without its metadata, and nothing else', async () => {
    const { store, id } = await storeWithOne()
    const other = await storeWithOne()
    fs.writeFileSync(path.join(store.dir, 'mx0orphan-000000000000.eml'), 'half a put')
    store.claim(id)
    expect(store.removeOrphans()).toEqual(['mx0orphan-000000000000'])
    expect(fs.readdirSync(store.dir).sort()).toEqual([`${id}.eml`, `${id}.json.releasing`])
    expect(other.store.removeOrphans()).toEqual([])
  })
})
