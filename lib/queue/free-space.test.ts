// Unit tests for the free-space decision that keeps a full disk from accepting half-written mail.

import os from 'node:os'

import { expect, it } from 'vitest'

import { freeBytes, roomFor } from './free-space'

it('needs the reserve plus twice the message', () => {
  expect(roomFor(1000, 100, 800)).toBe(true)
  expect(roomFor(999, 100, 800)).toBe(false)
  expect(roomFor(Infinity, 1e12, 1e12)).toBe(true)
})

it('reads real free space, and never blocks mail on a folder it cannot examine', async () => {
  const free = await freeBytes(os.tmpdir())
  expect(free).toBeGreaterThan(0)
  expect(Number.isFinite(free)).toBe(true)
  expect(await freeBytes('/nonexistent/queue')).toBe(Infinity)
})
