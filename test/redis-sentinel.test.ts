// The gateway on a Sentinel-managed Redis (master, replica, sentinel, all real):
// it finds the master through the sentinel (with a data password in the URL and the
// sentinel's own password from a file, neither ever logged), counts there, and when
// the master changes under load from parallel senders (SENTINEL FAILOVER, which
// demotes the old master, then kill -9 of the master), no mail is lost and the
// counting goes on on the new master.
//
// What is exact and what is not across a failover: Redis replicates asynchronously
// and Sentinel does not fence the old master, so counter flushes the old master
// acknowledged before it died, or (SENTINEL FAILOVER) after the replica's promotion
// but before its own demotion, can be lost. Once the old master is gone or refuses
// writes (the "switch" below: killed, or demoted to a replica), increments are kept
// in each instance's memory until the new master answers, then written once (a
// flush is marked applied, so a retried flush is not counted twice). So: final
// count <= messages accepted, and >= messages whose session began after the
// switch. Mail never depends on Redis: every message answered 250 is delivered.

import { expect, it } from 'vitest'

import { delivered, gatewayWithSink, sendOne, type Sent } from './helpers/fixtures'
import { addressBlock } from './helpers/net'
import { TestSentinelRedis } from './helpers/redis-sentinel'
import { waitForReport } from './helpers/report-cli'
import { FAILOVER_TEST_MS, failoverUnderLoad } from './helpers/sentinel-failover'

const block = addressBlock()
const sentinel = new TestSentinelRedis(block)
const f = gatewayWithSink({
  block,
  redisUrl: sentinel.url,
  services: [sentinel],
  env: { GATEWAY_NODE_NAME: 'node-s', GATEWAY_REDIS_SENTINEL_PASSWORD_FILE: sentinel.sentinelPasswordFile },
})

const accepted = (r: { messages: { in: number } }) => r.messages.in
const send = (i: number): Promise<Sent> => sendOne(f.gw, { from: `s${i}@sender.test`, to: ['staff@example.com'] })

it('counts inbound messages on the master the sentinel names (the CLI reads them the same way)', async () => {
  for (let i = 0; i < 3; i++) {
    const sent = await send(i)
    expect(sent.end?.code).toBe(250)
    await delivered(f.sink, sent.marker)
  }
  const r = await waitForReport(f.gw, ['--since', '1h'], (x) => accepted(x) === 3)
  expect(accepted(r)).toBe(3)
  expect(r.nodes).toEqual(['node-s'])
  // the counters are on the master itself, under the gateway's prefix
  const master = sentinel.serverClient(await sentinel.masterHost())
  try {
    expect(await master.smembers(`${f.gw.redisPrefix}:nodes`)).toEqual(['node-s'])
  } finally {
    master.disconnect()
  }
})

it('loses no mail in a SENTINEL FAILOVER under load (old master demoted), and counts on the new master', async () => {
  const { total, afterSwitch, counted, newMaster } = await failoverUnderLoad(f, sentinel, () => sentinel.failover())
  expect(afterSwitch).toBeGreaterThanOrEqual(8)
  // never more than accepted, never fewer than those begun after the switch
  expect(counted).toBeLessThanOrEqual(total)
  expect(counted).toBeGreaterThanOrEqual(afterSwitch)
  // the demoted master follows the new one: ready to be promoted again
  await sentinel.waitForReplica(sentinel.hosts.find((h) => h !== newMaster)!)
}, FAILOVER_TEST_MS)

it('loses no mail when the master is killed under load, and counts on the promoted replica', async () => {
  const { total, afterSwitch, counted } = await failoverUnderLoad(f, sentinel, () => sentinel.killMaster())
  expect(afterSwitch).toBeGreaterThanOrEqual(8)
  expect(counted).toBeLessThanOrEqual(total)
  expect(counted).toBeGreaterThanOrEqual(afterSwitch)
  expect(f.gw.log('inbound')).toMatch(/redis reachable again \(redis\+sentinel:\/\/:\*\*\*@/)
}, FAILOVER_TEST_MS)

it('never logs either password', () => {
  for (const secret of [sentinel.password, sentinel.sentinelPassword]) expect(f.gw.log('inbound')).not.toContain(secret)
})
