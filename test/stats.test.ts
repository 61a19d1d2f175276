// Traffic counters per instance (= direction) in Redis: what `gateway stats`
// reports must be exactly what happened on the wire.

import path from 'node:path'
import { spawnSync } from 'node:child_process'

import Redis from 'ioredis'
import { afterAll, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { base64 } from '../lib/smtp/client'
import { addUser, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail, testMessage } from './helpers/gateway'
import { daysSince, statsKey, waitForCounters } from './helpers/stats-counters'

const { gw } = outboundWithPartnerMx({ instances: ['inbound', 'outbound'], prepare: ({ gw }) => addUser(gw, 'relay', 'relay-password') })
const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())

it('counts inbound and outbound traffic separately, exactly, with an expiry', async () => {
  const since = new Date()
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

  const inbound = await waitForCounters(redis, gw.redisPrefix, 'inbound', since, (c) => c.get('messages_accepted') === 1 && c.get('recipients_rejected') === 1)
  expect(Object.fromEntries(inbound)).toMatchObject({ connections: 2, messages_accepted: 1, recipients_accepted: 2, recipients_rejected: 1 })
  expect(inbound.get('bytes_accepted')).toBeGreaterThanOrEqual(m1.text.length)
  expect(inbound.has('messages_rejected')).toBe(false)

  const outbound = await waitForCounters(redis, gw.redisPrefix, 'outbound', since, (c) => c.get('messages_accepted') === 1)
  expect(Object.fromEntries(outbound)).toMatchObject({ connections: 1, messages_accepted: 1, recipients_accepted: 1 })
  expect(outbound.get('bytes_accepted')).toBeGreaterThanOrEqual(m2.text.length)

  const days = daysSince(since)
  const ttl = await redis.ttl(statsKey(gw.redisPrefix, 'inbound', days[days.length - 1]!))
  expect(ttl).toBeGreaterThan(399 * 86_400)
  expect(ttl).toBeLessThanOrEqual(400 * 86_400)

  // and the CLI reads the same numbers (its rows of every day the test ran on, summed per direction)
  const cli = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'stats', String(days.length)], {
    env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root },
    encoding: 'utf8',
  })
  expect(cli.status, cli.stderr).toBe(0)
  const [header, ...rows] = cli.stdout.trim().split('\n').map((l) => l.split('\t'))
  expect(header).toEqual(['day', 'direction', 'connections', 'messages_accepted', 'messages_rejected', 'recipients_accepted', 'recipients_rejected', 'bytes_accepted'])
  const total = (direction: string) =>
    rows.filter((r) => r[1] === direction).reduce((sum, r) => sum.map((n, i) => n + Number(r[i + 2])), [0, 0, 0, 0, 0])
  expect(total('inbound')).toEqual([2, 1, 0, 2, 1])
  expect(total('outbound')).toEqual([1, 1, 0, 1, 0])
})
