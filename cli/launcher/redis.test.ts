// How `gateway start` finds its Redis when the configuration names sentinels or a
// cluster: a real Sentinel setup answers (external, through the sentinels' password
// file); one that does not answer is never replaced by a private redis-server. A
// server that speaks TLS only and requires client certificates answers with the
// [redis] tls_* files, not without them.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { addressBlock } from '../../test/helpers/net'
import { TestSentinelRedis } from '../../test/helpers/redis-sentinel'
import { RedisTls, TestTlsRedis } from '../../test/helpers/redis-tls'
import { ensureRedis, ping } from './redis'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-redis-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('ensureRedis with Sentinel or Cluster URLs', () => {
  const block = addressBlock()
  const sentinel = new TestSentinelRedis(block)
  beforeAll(async () => {
    vi.stubEnv('REDIS_URL', undefined)
    await sentinel.start()
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await sentinel.stop()
  })

  it('uses the master the sentinels name (the sentinels\' password read from its file)', async () => {
    const handle = await ensureRedis(sentinel.url, path.join(dir, 'a'), { sentinelPasswordFile: sentinel.sentinelPasswordFile })
    expect(handle).toMatchObject({ mode: 'external', url: sentinel.url })
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false)
  })

  it('does not reach sentinels that require a password without it', async () => {
    expect(await ping(sentinel.url, 1500)).toBe(false)
    expect(await ping(sentinel.url, 1500, { sentinelPasswordFile: sentinel.sentinelPasswordFile })).toBe(true)
  })

  it.each([
    ['redis+sentinel://127.0.0.1:1/mymaster', 'master "mymaster" of sentinels 127.0.0.1:1'],
    ['redis+cluster://127.0.0.1:1', 'cluster at 127.0.0.1:1'],
    ['rediss://127.0.0.1:1', 'rediss://127.0.0.1:1'],
    ['rediss+cluster://127.0.0.1:1', 'cluster at 127.0.0.1:1 (TLS)'],
  ])('runs standalone, without a private redis-server, when %s does not answer', async (url, target) => {
    const handle = await ensureRedis(url, path.join(dir, 'b'))
    expect(handle.mode).toBe('standalone')
    expect(handle.url).toBe(url)
    expect(handle.why).toBe(`the ${target} (config/gateway.ini [redis] url) does not answer; no private redis-server is started for a shared Sentinel, Cluster or TLS setup`)
    expect(fs.existsSync(path.join(dir, 'b'))).toBe(false)
  })
})

describe('ensureRedis with a TLS server (rediss://) that requires client certificates', () => {
  const tls = new RedisTls()
  const server = new TestTlsRedis(tls)
  const files = tls.gatewayFiles()
  beforeAll(async () => {
    vi.stubEnv('REDIS_URL', undefined)
    await server.start()
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await server.stop()
    tls.remove()
  })

  it('answers with the CA and the client certificate, and is then used as it is', async () => {
    expect(await ping(server.url, 1500, files)).toBe(true)
    const handle = await ensureRedis(server.url, path.join(dir, 'tls'), files)
    expect(handle).toMatchObject({ mode: 'external', url: server.url })
  })

  it('does not answer without the client certificate, with another CA, or over plain TCP', async () => {
    expect(await ping(server.url, 1500, { tlsCaFile: tls.ca.certFile })).toBe(false)
    const other = new RedisTls()
    try {
      expect(await ping(server.url, 1500, { ...files, tlsCaFile: other.ca.certFile })).toBe(false)
    } finally {
      other.remove()
    }
    expect(await ping(server.url.replace(/^rediss:/, 'redis:'), 1500, files)).toBe(false)
  })
})
