// The process's shared client against a real Redis: when ioredis ends it (e.g. a
// Sentinel switch mid-reconnect) the next use makes a new one. That new one must
// not depend on the [redis] files still being readable: it is made inside a hook
// or a flush timer, where a throw would fail mail or end the process. The files
// are read when the first client is made (at startup) and kept.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, expect, inject, it } from 'vitest'

import type Redis from 'ioredis'

import { closeRedis, redisClient } from './client'

/** The shared client fails fast (no offline queue): wait until it is connected. */
async function ready(c: Redis): Promise<Redis> {
  if (c.status !== 'ready') await new Promise((r) => c.once('ready', r))
  return c
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-client-'))
afterAll(async () => {
  await closeRedis()
  fs.rmSync(dir, { recursive: true, force: true })
})

it('replaces an ended client even when the files it was made with are gone', async () => {
  const passwordFile = path.join(dir, 'sentinel.password')
  fs.writeFileSync(passwordFile, 'sentinel-pw\n', { mode: 0o600 })
  const logs: string[] = []
  const opts = { url: inject('redisUrl'), connectTimeoutMs: 2000, files: { sentinelPasswordFile: passwordFile }, log: (_l: string, m: string) => logs.push(m) }
  const first = redisClient(opts)
  expect(await (await ready(first)).ping()).toBe('PONG')

  fs.rmSync(passwordFile) // moved by an operator, or a volume gone
  const ended = new Promise((r) => first.once('end', r))
  first.disconnect() // ioredis gives the client up: 'end'
  await ended

  const second = redisClient(opts)
  expect(second).not.toBe(first)
  expect(await (await ready(second)).ping()).toBe('PONG')
  expect(logs.join('\n')).toMatch(/redis client for .* ended; a new one is created at the next use/)
})
