// Unit tests of the oldest-message age read from a queue folder's file names:
// temp and error files are not waiting messages, an empty or missing folder means
// an empty queue, the count is of queue files only, and the age is whole seconds
// from the arrival in the name.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { oldestAgeSeconds, oldestArrivalMs, queuedCount } from './oldest'

let dir: string
const touch = (name: string) => fs.writeFileSync(path.join(dir, name), '')

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('oldest queued message', () => {
  it('is the smallest arrival among queue file names', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oldest-'))
    const now = Date.now()
    touch(`${now - 5000}_${now + 60_000}_1_4242_AbC123_7_mx.example`)
    touch(`${now - 90_500}_${now + 1000}_3_4242_Zz9_8_mx.example`)
    touch(`__tmp__.${now - 999_999}_0_0_1_x_1_h`) // being written: not queued yet
    touch(`error.${now - 999_999}_0_0_1_x_1_h`) // an unreadable file Haraka set aside
    touch('not-a-queue-file')
    expect(await oldestArrivalMs(dir)).toBe(now - 90_500)
    expect(await oldestAgeSeconds(dir, now)).toBe(90)
    expect(await queuedCount(dir)).toBe(2)
  })

  it('is none for an empty or missing folder (age 0)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oldest-'))
    expect(await oldestArrivalMs(dir)).toBeNull()
    expect(await oldestAgeSeconds(path.join(dir, 'missing'), Date.now())).toBe(0)
    expect(await queuedCount(dir)).toBe(0)
    expect(await queuedCount(path.join(dir, 'missing'))).toBe(0)
  })

  it('never goes negative when a name is ahead of this clock (another node, a clock step)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oldest-'))
    const now = Date.now()
    touch(`${now + 30_000}_${now + 30_000}_0_1_AbC_1_mx.example`)
    expect(await oldestAgeSeconds(dir, now)).toBe(0)
  })
})
