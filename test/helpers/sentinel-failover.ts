// A master change under load, for the Sentinel tests (plain and TLS): parallel
// senders keep the inbound instance busy while `failover` runs, then the checks
// that hold whatever Redis did: every message answered 250 and delivered, and the
// counters' range (see test/redis-sentinel.test.ts for why it is a range).

import { expect } from 'vitest'

import { delivered, sendOne, type Fixture, type Sent } from './fixtures'
import type { TestSentinelRedis } from './redis-sentinel'
import { reportJson, waitForReport } from './report-cli'

export interface FailoverOutcome {
  /** Messages sent (each answered 250 and delivered). */
  total: number
  /** Of those, begun after the old master stopped taking writes. */
  afterSwitch: number
  /** How many the counters show. */
  counted: number
  newMaster: string
}

const accepted = (r: { messages: { in: number } }) => r.messages.in

/** Messages accepted as the report shows them now; -1 while the CLI cannot read Redis (no master yet). */
function acceptedNow(f: Fixture): number {
  try {
    return accepted(reportJson(f.gw, ['--since', '1h']))
  } catch {
    return -1
  }
}

let sequence = 100

/**
 * Sends from 4 parallel senders (bounded loops) while `failover` runs: first 8
 * messages, then the failover, then until the new master has counted messages
 * begun after it, then 8 more. Checks that every message was accepted and
 * delivered, and returns what the counters show.
 */
export async function failoverUnderLoad(
  f: Fixture,
  sentinel: TestSentinelRedis,
  /** Resolves (old master's address) once the old master takes no more writes. */
  failover: () => Promise<string>,
): Promise<FailoverOutcome> {
  const send = (i: number): Promise<Sent> => sendOne(f.gw, { from: `s${i}@sender.test`, to: ['staff@example.com'] })
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
      .poll(() => acceptedNow(f) > before + results.filter((x) => !x.afterSwitch).length, { timeout: 30_000, interval: 500 })
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

/** A failover under load: senders, a failover of several seconds, deliveries and counters to wait for (a busy CI machine). */
export const FAILOVER_TEST_MS = 150_000
