// Two gateway nodes (own addresses, own node names) sharing one Redis, as in a
// production pair behind one MX record: counters under parallel load on both add up
// exactly, per node and in total, and the directory-harvest defence is one state:
// probes spread over both nodes cut the prober off on both (at connect within
// CONNECT_READ_TTL_MS, the documented staleness of a node's cached read).
// Also covered elsewhere, not repeated here: the AUTH lockout shared by two nodes
// (test/outbound-auth.test.ts, "lockout shared by two gateway nodes"), the report's
// sum over nodes and --node for a few known messages (test/report.test.ts), link
// state of two nodes (test/links.test.ts).

import Redis from 'ioredis'
import { afterAll, expect, inject, it } from 'vitest'

import { CONNECT_READ_TTL_MS } from '../lib/recipients/harvest'
import { delivered, gatewayWithSink, probeRecipients, sendOne, type Sent } from './helpers/fixtures'
import type { TestGateway } from './helpers/gateway'
import { reportJson, waitForReport } from './helpers/report-cli'

const PREFIX = `gwtwo${process.pid}x${Math.floor(Math.random() * 1e9)}`
const HARVEST = '[harvest]\nslow_after=2\nblock_after=4\ndelay_ms=50\nwindow_seconds=60\n'
const f = gatewayWithSink<'nodeB'>({
  files: { 'inbound/config/valid_recipients': 'alice@example.com\n', 'inbound/config/gateway-recipients.ini': HARVEST },
  env: { GATEWAY_REDIS_PREFIX: PREFIX, GATEWAY_NODE_NAME: 'node-a' },
  variants: { nodeB: { env: { GATEWAY_REDIS_PREFIX: PREFIX, GATEWAY_NODE_NAME: 'node-b' } } },
})
const nodeA = f.gw
const nodeB = f.variants.nodeB
const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

/** The greeting's code and enhanced code for a client at `ip` (the session is closed either way). */
async function greeting(gw: TestGateway, ip: string): Promise<[number, string]> {
  const { client, greeting } = await gw.connect('inbound', ip)
  if (greeting.code === 220) await client.quit()
  else await client.waitClosed()
  return [greeting.code, greeting.enhanced]
}

/** `senders` parallel senders to `gw`, `each` messages apiece. */
async function load(gw: TestGateway, tag: string, senders: number, each: number): Promise<Sent[]> {
  const all = await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      const sent: Sent[] = []
      for (let i = 0; i < each; i++) sent.push(await sendOne(gw, { from: `${tag}${s}.${i}@sender.test`, to: ['alice@example.com'] }))
      return sent
    }),
  )
  return all.flat()
}

it('counts parallel traffic on both nodes exactly: per node, and their sum in the totals', async () => {
  const [a, b] = await Promise.all([load(nodeA, 'a', 4, 8), load(nodeB, 'b', 3, 8)])
  expect([...a, ...b].map((s) => s.end?.code).filter((c) => c !== 250)).toEqual([])
  for (const s of [...a, ...b]) await delivered(f.sink, s.marker)

  const all = await waitForReport(nodeA, ['--since', '1h'], (r) => r.messages.in === 56 && r.delivery.inbound.deliveries === 56)
  expect(all.nodes).toEqual(['node-a', 'node-b'])
  expect(all.messages.in).toBe(56)
  expect(all.delivery.inbound.deliveries).toBe(56)
  expect(all.totals.inbound).toMatchObject({ connections: 56, messages_accepted: 56, recipients_accepted: 56 })
  // the same Redis read from node B's side, and each node alone
  expect(reportJson(nodeB, ['--since', '1h']).totals.inbound).toEqual(all.totals.inbound)
  const onA = reportJson(nodeA, ['--since', '1h', '--node', 'node-a'])
  const onB = reportJson(nodeA, ['--since', '1h', '--node', 'node-b'])
  expect([onA.messages.in, onB.messages.in]).toEqual([32, 24])
  expect([onA.delivery.inbound.deliveries, onB.delivery.inbound.deliveries]).toEqual([32, 24])
  for (const field of Object.keys(all.totals.inbound)) {
    expect(all.totals.inbound[field], field).toBe((onA.totals.inbound[field] ?? 0) + (onB.totals.inbound[field] ?? 0))
  }
})

it('shares the directory-harvest defence: probes on node A and node B add up, and both cut the prober off', async () => {
  const prober = f.block.ip(66)
  expect(await probeRecipients(nodeA, prober, ['u1', 'u2'])).toEqual([550, 550])
  expect(await redis.get(`${PREFIX}:harvest:${prober}`)).toBe('2')
  // node B starts from node A's count: the third probe is slowed, the fourth cuts off
  expect(await probeRecipients(nodeB, prober, ['u3', 'u4'])).toEqual([550, 421])
  expect(await redis.get(`${PREFIX}:harvest:${prober}`)).toBe('4')
  expect(await greeting(nodeB, prober)).toEqual([421, '4.7.0'])
  // node A reuses a count it read for CONNECT_READ_TTL_MS (one Redis read per address, not per
  // connection): until then it may still greet the prober, but its next unknown recipient is
  // counted in Redis and cut off at once ...
  const { client, greeting: first } = await nodeA.connect('inbound', prober)
  if (first.code === 220) {
    await client.ehlo()
    await client.send('MAIL FROM:<x@sender.test>')
    const r = await client.send('RCPT TO:<u5@example.com>')
    expect([r.code, r.enhanced]).toEqual([421, '4.7.0'])
    expect(await redis.get(`${PREFIX}:harvest:${prober}`)).toBe('5')
  } else {
    expect([first.code, first.enhanced]).toEqual([421, '4.7.0'])
  }
  await client.waitClosed()
  // ... and its greeting refuses the prober once that read is renewed
  await expect.poll(() => greeting(nodeA, prober), { timeout: CONNECT_READ_TTL_MS + 5000, interval: 250 }).toEqual([421, '4.7.0'])
  // another client is served as usual on both
  for (const gw of [nodeA, nodeB]) {
    const ok = await sendOne(gw, { from: 'x@sender.test', to: ['alice@example.com'], localAddress: f.block.ip(67) })
    expect(ok.end?.code).toBe(250)
  }
})
