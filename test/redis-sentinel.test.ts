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
import { reportJson, waitForReport } from './helpers/report-cli'

const block = addressBlock()
const sentinel = new TestSentinelRedis(block)
const f = gatewayWithSink({
  block,
  redisUrl: sentinel.url,
  services: [sentinel],
  env: { GATEWAY_NODE_NAME: 'node-s', GATEWAY_REDIS_SENTINEL_PASSWORD_FILE: sentinel.sentinelPasswordFile },
})

const accepted = (r: { messages: { in: number } }) => r.messages.in
/** Messages accepted as the report shows them now; -1 while the CLI cannot read Redis (no master yet). */
function acceptedNow(): number {
  try {
    return accepted(reportJson(f.gw, ['--since', '1h']))
  } catch {
    return -1
  }
}
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

/**
 * Sends from 4 parallel senders (bounded loops) while `failover` runs: first 8
 * messages, then the failover, then until the new master has counted messages
 * begun after it, then 8 more. Checks that every message was accepted and
 * delivered, and returns what the counters show.
 */
async function failoverUnderLoad(/** Resolves (old master's address) once the old master takes no more writes. */ failover: () => Promise<string>): Promise<{ total: number; afterSwitch: number; counted: number; newMaster: string }> {
  const before = accepted(reportJson(f.gw, ['--since', '1h']))
  const inSink = f.sink.messages.length
  const results: { sent: Sent; afterSwitch: boolean }[] = []
  let switched = false
  let stop = false
  const sender = async () => {
    for (let n = 0; n < 400 && !stop; n++) {
      const afterSwitch = switched
      results.push({ sent: await send(sequence++), afterSwitch })
    }
  }
  const senders = Promise.all([sender(), sender(), sender(), sender()])
  let newMaster: string
  try {
    await expect.poll(() => results.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(8)
    const oldMaster = await failover()
    switched = true
    newMaster = await sentinel.waitForNewMaster(oldMaster)
    // keep sending until the new master has counted messages begun after the switch
    await expect
      .poll(() => acceptedNow() > before + results.filter((x) => !x.afterSwitch).length, { timeout: 30_000, interval: 500 })
      .toBe(true)
    const target = results.length + 8
    await expect.poll(() => results.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(target)
  } finally {
    stop = true
    await senders
  }

  // every message was accepted (mail never waits on Redis) and every one arrived
  expect(results.map((x) => x.sent.end?.code).filter((c) => c !== 250)).toEqual([])
  for (const { sent } of results) await delivered(f.sink, sent.marker)
  expect(f.sink.messages.length).toBe(inSink + results.length)
  const r = await waitForReport(f.gw, ['--since', '1h'], (x) => accepted(x) - before >= results.length)
  return { total: results.length, afterSwitch: results.filter((x) => x.afterSwitch).length, counted: accepted(r) - before, newMaster }
}
let sequence = 100
/** A failover under load: senders, a failover of several seconds, deliveries and counters to wait for (a busy CI machine). */
const SLOW = 150_000

it('loses no mail in a SENTINEL FAILOVER under load (old master demoted), and counts on the new master', async () => {
  const { total, afterSwitch, counted, newMaster } = await failoverUnderLoad(() => sentinel.failover())
  expect(afterSwitch).toBeGreaterThanOrEqual(8)
  // never more than accepted, never fewer than those begun after the switch
  expect(counted).toBeLessThanOrEqual(total)
  expect(counted).toBeGreaterThanOrEqual(afterSwitch)
  // the demoted master follows the new one: ready to be promoted again
  await sentinel.waitForReplica(sentinel.hosts.find((h) => h !== newMaster)!)
}, SLOW)

it('loses no mail when the master is killed under load, and counts on the promoted replica', async () => {
  const { total, afterSwitch, counted } = await failoverUnderLoad(() => sentinel.killMaster())
  expect(afterSwitch).toBeGreaterThanOrEqual(8)
  expect(counted).toBeLessThanOrEqual(total)
  expect(counted).toBeGreaterThanOrEqual(afterSwitch)
  expect(f.gw.log('inbound')).toMatch(/redis reachable again \(redis\+sentinel:\/\/:\*\*\*@/)
}, SLOW)

it('never logs either password', () => {
  for (const secret of [sentinel.password, sentinel.sentinelPassword]) expect(f.gw.log('inbound')).not.toContain(secret)
})
