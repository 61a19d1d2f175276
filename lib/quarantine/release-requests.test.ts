// Unit tests for the release-request folder the command and the inbound instance share.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { ReleaseRequests, releaseRequestDir } from './release-requests'

const dirs: string[] = []
function requests(): ReleaseRequests {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'release-'))
  dirs.push(d)
  return new ReleaseRequests(releaseRequestDir(d))
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const request = { id: 'mabc-0123456789ab', by: 'admin', at: '2026-12-01T00:00:00.000Z' }

describe('ReleaseRequests', () => {
  it('lives in the instance queue-control folder', () => {
    expect(releaseRequestDir('/srv/gw/inbound')).toBe('/srv/gw/inbound/queue-control/release')
  })

  it('a request is taken once, answered, and the answer read once', async () => {
    const r = requests()
    const nonce = r.submit(request)
    expect(await r.takePending()).toEqual([{ nonce, request }])
    expect(await r.takePending()).toEqual([])
    expect(r.withdraw(nonce)).toBe(false) // taken: too late to withdraw
    expect(r.takeAnswer(nonce)).toBeUndefined()
    await r.answer(nonce, { ok: true, uuid: 'U1' })
    expect(r.takeAnswer(nonce)).toEqual({ ok: true, uuid: 'U1' })
    expect(r.takeAnswer(nonce)).toBeUndefined()
    expect(fs.readdirSync(r.dir)).toEqual([])
  })

  it('a request nobody takes is withdrawn, so it can never be carried out later', async () => {
    const r = requests()
    const nonce = r.submit(request)
    expect(await r.await(nonce, { takeMs: 50, answerMs: 1000, pollMs: 10 })).toEqual({ kind: 'not-taken' })
    expect(await r.takePending()).toEqual([])
  })

  it('waits for the answer of a taken request, up to a limit', async () => {
    const r = requests()
    const nonce = r.submit(request)
    await r.takePending()
    setTimeout(() => void r.answer(nonce, { ok: false, gone: false, error: 'disk full' }), 100)
    expect(await r.await(nonce, { takeMs: 10, answerMs: 5000, pollMs: 10 })).toEqual({ kind: 'answered', answer: { ok: false, gone: false, error: 'disk full' } })
    const other = r.submit(request)
    await r.takePending()
    expect(await r.await(other, { takeMs: 10, answerMs: 100, pollMs: 10 })).toEqual({ kind: 'no-answer' })
  })

  it('ignores foreign and half-written files, answers an unreadable request, prunes stale answers', async () => {
    const r = requests()
    fs.mkdirSync(r.dir, { recursive: true })
    fs.writeFileSync(path.join(r.dir, '.x.request.123.tmp'), '{')
    fs.writeFileSync(path.join(r.dir, 'etc.request'), '{}')
    fs.writeFileSync(path.join(r.dir, 'mabc-0123456789abcdef.request'), 'not json')
    expect(await r.takePending()).toEqual([{ nonce: 'mabc-0123456789abcdef', request: undefined }])
    await r.answer('mabc-0123456789abcdef', { ok: false, gone: false, error: 'unreadable' })
    expect(await r.prune(60_000)).toBe(0)
    expect(await r.prune(60_000, Date.now() + 120_000)).toBe(2) // the answer and the temporary file
  })
})
