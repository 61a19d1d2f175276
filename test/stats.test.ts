// Traffic counters per instance (= direction) in Redis: what `gateway stats`
// reports must be exactly what happened on the wire.

import path from 'node:path'
import { spawnSync } from 'node:child_process'

import Redis from 'ioredis'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { dayOf } from '../lib/redis/keys'
import { base64 } from '../lib/smtp/client'
import { FixtureDns } from './helpers/dns-server'
import { addUser } from './helpers/fixtures'
import { sendMail, testMessage, TestGateway } from './helpers/gateway'
import { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'

const block = addressBlock()
const internal = new MailSink({ host: block.ip(3), port: 2526 })
const remoteMx = new MailSink({ host: block.ip(10), port: 25 })
const dns = new FixtureDns(block.ip(53), 5353).add('partner.test', { type: 'A', data: block.ip(10) })
const gw = new TestGateway({ block, redisUrl: inject('redisUrl'), internalHosts: [internal.address], dnsServer: dns.address })
const redis = new Redis(inject('redisUrl'))

beforeAll(async () => {
  await Promise.all([internal.start(), remoteMx.start(), dns.start()])
  addUser(gw, 'relay', 'relay-password')
  await gw.start()
})
afterAll(async () => {
  await gw.stop()
  await Promise.all([internal.stop(), remoteMx.stop(), dns.stop()])
  redis.disconnect()
})

async function counters(direction: 'inbound' | 'outbound', until: (h: Record<string, string>) => boolean): Promise<Record<string, string>> {
  const key = `${gw.redisPrefix}:stats:${direction}:${dayOf(new Date())}`
  const deadline = Date.now() + 15_000
  for (;;) {
    const h = await redis.hgetall(key)
    if (until(h)) return h
    if (Date.now() > deadline) return h
    await new Promise((r) => setTimeout(r, 100))
  }
}

it('counts inbound and outbound traffic separately, exactly, with an expiry', async () => {
  // inbound: session 1 delivers one message to two recipients, session 2 is refused relaying
  const one = await gw.connect('inbound')
  await one.client.ehlo()
  const m1 = testMessage({ from: 'a@sender.test', to: 'b@example.com' })
  const r1 = await sendMail(one.client, { from: 'a@sender.test', to: ['b@example.com', 'c@example.com'] }, m1.text)
  await one.client.quit()
  expect(r1.end!.code).toBe(250)
  const two = await gw.connect('inbound')
  await two.client.ehlo()
  await two.client.send('MAIL FROM:<a@sender.test>')
  expect((await two.client.send('RCPT TO:<x@elsewhere.test>')).code).toBe(550)
  await two.client.quit()

  // outbound: one authenticated message to the Internet
  const out = await gw.connect('outbound')
  await out.client.ehlo()
  await out.client.startTls()
  await out.client.ehlo()
  expect((await out.client.send(`AUTH PLAIN ${base64('\0relay\0relay-password')}`)).code).toBe(235)
  const m2 = testMessage({ from: 'relay@example.com', to: 'x@partner.test' })
  expect((await sendMail(out.client, { from: 'relay@example.com', to: ['x@partner.test'] }, m2.text)).end!.code).toBe(250)
  await out.client.quit()

  const inbound = await counters('inbound', (h) => h.messages_accepted === '1' && h.recipients_rejected === '1')
  expect(inbound).toMatchObject({ connections: '2', messages_accepted: '1', recipients_accepted: '2', recipients_rejected: '1' })
  expect(Number(inbound.bytes_accepted)).toBeGreaterThanOrEqual(m1.text.length)
  expect(inbound.messages_rejected).toBeUndefined()

  const outbound = await counters('outbound', (h) => h.messages_accepted === '1')
  expect(outbound).toMatchObject({ connections: '1', messages_accepted: '1', recipients_accepted: '1' })
  expect(Number(outbound.bytes_accepted)).toBeGreaterThanOrEqual(m2.text.length)

  const ttl = await redis.ttl(`${gw.redisPrefix}:stats:inbound:${dayOf(new Date())}`)
  expect(ttl).toBeGreaterThan(399 * 86_400)
  expect(ttl).toBeLessThanOrEqual(400 * 86_400)

  // and the CLI reads the same numbers
  const cli = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'stats', '1'], {
    env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root },
    encoding: 'utf8',
  })
  expect(cli.status, cli.stderr).toBe(0)
  const rows = cli.stdout.trim().split('\n').map((l) => l.split('\t'))
  expect(rows[0]).toEqual(['day', 'direction', 'connections', 'messages_accepted', 'messages_rejected', 'recipients_accepted', 'recipients_rejected', 'bytes_accepted'])
  expect(rows[1]!.slice(1, 7)).toEqual(['inbound', '2', '1', '0', '2', '1'])
  expect(rows[2]!.slice(1, 7)).toEqual(['outbound', '1', '1', '0', '1', '0'])
})
