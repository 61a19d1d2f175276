// The gateway on a Redis Cluster that speaks TLS only (to clients and on the
// cluster bus) and requires client certificates from the organisation's CA: with
// rediss+cluster:// and [redis] tls_ca_file, tls_cert_file, tls_key_file it counts
// on the cluster, and the CLI reads the counters and records the same way.

import { spawnSync } from 'node:child_process'

import { afterAll, expect, it } from 'vitest'

import { delivered, gatewayWithSink, sendOne } from './helpers/fixtures'
import { addressBlock } from './helpers/net'
import { TestRedisCluster } from './helpers/redis-cluster'
import { RedisTls } from './helpers/redis-tls'
import { waitForReport } from './helpers/report-cli'
import { track, type TrackJson } from './helpers/tracking'

const block = addressBlock()
const tls = new RedisTls()
const cluster = new TestRedisCluster(block, tls)
const f = gatewayWithSink({
  block,
  redisUrl: cluster.url,
  services: [cluster],
  env: { GATEWAY_NODE_NAME: 'node-ct', ...tls.gatewayEnv() },
})
const client = cluster.client()
afterAll(() => {
  client.disconnect()
  tls.remove()
})

it('answers only TLS clients with a certificate from the CA', () => {
  const ping = (args: string[]) => spawnSync('redis-cli', [...args, '-h', cluster.hosts[0]!, '-p', '6379', 'ping'], { encoding: 'utf8', timeout: 10_000 }).stdout.trim()
  expect(ping(tls.cliArgs())).toBe('PONG')
  expect(ping([])).not.toBe('PONG')
  expect(ping(['--tls', '--cacert', tls.ca.certFile])).not.toBe('PONG')
})

it('counts inbound messages on the cluster over TLS; the CLI reads counters and records the same way', async () => {
  const sent = []
  for (let i = 0; i < 3; i++) sent.push(await sendOne(f.gw, { from: `ct${i}@sender.test`, to: ['staff@example.com'] }))
  expect(sent.map((s) => s.end?.code)).toEqual([250, 250, 250])
  for (const s of sent) await delivered(f.sink, s.marker)
  const r = await waitForReport(f.gw, ['--since', '1h'], (x) => x.messages.in === 3 && x.delivery.inbound.deliveries === 3)
  expect(r.nodes).toEqual(['node-ct'])
  expect(await client.smembers(`{${f.gw.redisPrefix}}:nodes`)).toEqual(['node-ct'])
  const found = await track(f.gw, '--from', 'ct1@sender.test', '--json')
  expect(found.status, found.stderr).toBe(0)
  expect((JSON.parse(found.stdout) as TrackJson).messages).toHaveLength(1)
  expect(f.gw.log('inbound')).not.toMatch(/CROSSSLOT|redis unavailable \(/)
})
