// The gateway on a Sentinel-managed Redis that speaks TLS only, as a production
// setup across machines would: master, replica and sentinel have no plain port and
// require a client certificate from the organisation's CA (replication and the
// sentinel's own connections too). The gateway is given rediss+sentinel://, the CA
// and its client certificate ([redis] tls_ca_file, tls_cert_file, tls_key_file);
// it finds the master through the sentinel over TLS, counts there, follows a
// failover under load without losing mail, and never logs its key.

import fs from 'node:fs'

import { afterAll, expect, it } from 'vitest'

import { ping } from '../cli/launcher/redis'
import { delivered, gatewayWithSink, sendOne } from './helpers/fixtures'
import { addressBlock } from './helpers/net'
import { TestSentinelRedis } from './helpers/redis-sentinel'
import { RedisTls } from './helpers/redis-tls'
import { waitForReport } from './helpers/report-cli'
import { FAILOVER_TEST_MS, failoverUnderLoad } from './helpers/sentinel-failover'

const block = addressBlock()
const tls = new RedisTls()
const sentinel = new TestSentinelRedis(block, tls)
const f = gatewayWithSink({
  block,
  redisUrl: sentinel.url,
  services: [sentinel],
  env: { GATEWAY_NODE_NAME: 'node-t', GATEWAY_REDIS_SENTINEL_PASSWORD_FILE: sentinel.sentinelPasswordFile, ...tls.gatewayEnv() },
})
afterAll(() => tls.remove())

it('serves TLS only, to clients with a certificate from the CA (so what the gateway writes there went over TLS)', async () => {
  const master = `//:${sentinel.password}@${await sentinel.masterHost()}:6379`
  const files = tls.gatewayFiles()
  expect(await ping(`rediss:${master}`, 2000, files)).toBe(true)
  expect(await ping(`redis:${master}`, 2000)).toBe(false)
  expect(await ping(`rediss:${master}`, 2000, { tlsCaFile: tls.ca.certFile })).toBe(false)
  expect(await ping(`redis://:${sentinel.sentinelPassword}@${sentinel.sentinelHost}:26379`, 2000)).toBe(false)
})

it('counts inbound messages on the master the sentinel names over TLS (the CLI reads them the same way)', async () => {
  for (let i = 0; i < 3; i++) {
    const sent = await sendOne(f.gw, { from: `t${i}@sender.test`, to: ['staff@example.com'] })
    expect(sent.end?.code).toBe(250)
    await delivered(f.sink, sent.marker)
  }
  const r = await waitForReport(f.gw, ['--since', '1h'], (x) => x.messages.in === 3)
  expect(r.messages.in).toBe(3)
  expect(r.nodes).toEqual(['node-t'])
  const master = sentinel.serverClient(await sentinel.masterHost())
  try {
    expect(await master.smembers(`${f.gw.redisPrefix}:nodes`)).toEqual(['node-t'])
  } finally {
    master.disconnect()
  }
  expect(f.gw.log('inbound')).not.toMatch(/redis unavailable/)
})

it('loses no mail in a SENTINEL FAILOVER under load, and counts on the new master over TLS', async () => {
  const { total, afterSwitch, counted } = await failoverUnderLoad(f, sentinel, () => sentinel.failover())
  expect(afterSwitch).toBeGreaterThanOrEqual(8)
  expect(counted).toBeLessThanOrEqual(total)
  expect(counted).toBeGreaterThanOrEqual(afterSwitch)
}, FAILOVER_TEST_MS)

it('never logs the passwords or the private key', () => {
  const keyLines = fs
    .readFileSync(tls.clientKeyFile, 'utf8')
    .split('\n')
    .filter((l) => l.length > 40)
  const logs = f.gw.log('inbound')
  for (const secret of [sentinel.password, sentinel.sentinelPassword, ...keyLines]) expect(logs).not.toContain(secret)
})
