// `gateway report` against real instances: known traffic (accepted, refused by a
// check, a decision in monitor mode, relayed outbound, delivered) must come out
// as exact numbers, per filter too; two gateway nodes sharing one Redis add up
// exactly, and --node shows one of them.

import { execFile } from 'node:child_process'
import path from 'node:path'

import { afterAll, beforeAll, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { QuarantineStore } from '../lib/quarantine/store'

import { base64 } from '../lib/smtp/client'
import { addUser, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import { relayOne } from './helpers/outbound-relay'
import { reportJson, runReport, waitForReport } from './helpers/report-cli'

const PREFIX = `gwreport${process.pid}x${Math.floor(Math.random() * 1e9)}`
const nodeEnv = (node: string) => ({ GATEWAY_REDIS_PREFIX: PREFIX, GATEWAY_NODE_NAME: node })
// the block list on trial: its decisions are recorded ("monitor"), nothing refused
// and one protected address whose spoofs are held in the quarantine
const SENDER_FILTER = ['[spoofing]', 'action=reject', '[protected]', 'addresses[]=cfo@example.com', 'action=quarantine', '[blocklist]', 'senders[]=blocked.test', 'action=monitor', ''].join('\n')

const f = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  env: nodeEnv('node-a'),
  files: { 'inbound/config/gateway-sender-filter.ini': SENDER_FILTER },
  prepare: ({ gw }) => addUser(gw, 'relay', 'relay-password'),
})
let nodeB: TestGateway

beforeAll(async () => {
  nodeB = f.another({ instances: ['inbound'], env: nodeEnv('node-b') })
  await nodeB.start()
})
afterAll(async () => {
  await nodeB?.stop()
})

/** One inbound session: MAIL, RCPT, DATA if a recipient was accepted; the end-of-data reply code (or the MAIL reply's when refused). */
async function inbound(gw: TestGateway, m: { from: string; to: string; headerFrom?: string }): Promise<number> {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  const mail = await client.send(`MAIL FROM:<${m.from}>`)
  if (mail.code !== 250) {
    await client.quit()
    return mail.code
  }
  const r = await sendMail(client, { from: m.from, to: [m.to] }, testMessage({ from: m.headerFrom ?? m.from, to: m.to }).text)
  await client.quit()
  return r.end?.code ?? r.rcpts[0]!.code
}

it('reports known traffic of one node exactly: in vs out, refusals by check, filter ROI, AUTH, deliveries', async () => {
  const gw = f.gw
  expect(await inbound(gw, { from: 'a@sender.test', to: 'b@example.com' })).toBe(250) // accepted
  expect(await inbound(gw, { from: 'news@blocked.test', to: 'b@example.com' })).toBe(250) // accepted, block list (monitor) noted
  expect(await inbound(gw, { from: 'ceo@example.com', to: 'b@example.com' })).toBe(550) // spoofing, refused at MAIL: the only check
  // refused after DATA (header From spoofed); the block list on trial would also have caught it
  expect(await inbound(gw, { from: 'promo@blocked.test', to: 'b@example.com', headerFrom: 'boss@example.com' })).toBe(550)
  expect(await inbound(gw, { from: 'a@sender.test', to: 'x@elsewhere.test' })).toBe(550) // a recipient refused: not a message

  // outbound: one wrong password, one relayed message
  const { client } = await gw.connect('outbound')
  await client.ehlo('app1.corp.example')
  await client.startTls()
  await client.ehlo('app1.corp.example')
  expect((await client.send(`AUTH PLAIN ${base64('\0relay\0wrong-password')}`)).code).toBe(535)
  await client.quit()
  const relayed = await relayOne(gw, { user: 'relay', password: 'relay-password', from: 'relay@example.com', to: ['x@partner.test'] })
  expect(relayed.end?.code).toBe(250)

  const r = await waitForReport(gw, ['--since', '1h', '--node', 'node-a'], (x) => x.delivery.inbound.deliveries === 2 && x.delivery.outbound.deliveries === 1 && x.auth.successes === 1)
  expect(r.version).toBe(1)
  expect(r.nodes).toEqual(['node-a'])
  expect(r.range.granularity).toBe('minute')
  expect(r.messages).toMatchObject({ in: 2, out: 1, in_per_out: 2 })
  expect(r.bytes.in).toBeGreaterThan(0)
  expect(r.bytes.out).toBe(r.totals.outbound.bytes_accepted)
  expect(r.totals.inbound).toMatchObject({ connections: 5, messages_accepted: 2, messages_rejected: 1, sessions_rejected: 1, recipients_accepted: 3, recipients_rejected: 1 })
  expect(r.totals.outbound).toMatchObject({ messages_accepted: 1, recipients_accepted: 1 })
  expect(r.delivery.inbound).toMatchObject({ deliveries: 2, deferrals: 0, bounces: 0 })
  expect(r.delivery.inbound.bytes).toBeGreaterThan(0)
  expect(r.delivery.outbound).toMatchObject({ deliveries: 1, deferrals: 0, bounces: 0 })
  expect(r.auth).toEqual({ successes: 1, failures: 1, lockouts: 0 })
  // every look at a sender counts (envelope at MAIL, each header From after DATA): at least the two envelopes
  expect(r.totals.inbound['check:sender-blocklist:monitor']).toBeGreaterThanOrEqual(2)
  expect(r.reject_reasons).toContainEqual({ instance: 'inbound', check: 'sender-spoofing', action: 'reject', count: 2 })
  expect(r.filters.filter((x) => x.instance === 'inbound')).toEqual([
    { instance: 'inbound', check: 'sender-spoofing', first: 2, only: 1, also: 0 },
    { instance: 'inbound', check: 'sender-blocklist', first: 0, only: 0, also: 1 },
  ])
  expect(r.unattributed.inbound).toBe(0)
  expect(r.peak.inbound.messages).toBeGreaterThanOrEqual(1)
  expect(r.days.reduce((s, d) => s + (d.inbound.messages_accepted ?? 0), 0)).toBe(2)

  // the same numbers for a person and for a spreadsheet
  const text = runReport(gw, ['--since', '1h', '--node', 'node-a'])
  expect(text.status, text.stderr).toBe(0)
  expect(text.stdout).toMatch(/messages accepted\s+2\s+1\s+3\n/)
  expect(text.stdout).toMatch(/inbound\s+sender-blocklist\s+0\s+0\s+1\s+0\.0%\s+never alone/)
  const csv = runReport(gw, ['--since', '1h', '--node', 'node-a', '--csv'])
  expect(csv.stdout.split('\n')).toContain('filter,inbound,sender-spoofing:only,,1')
})

it('sums two gateway nodes sharing one Redis exactly, and --node shows one', async () => {
  const before = reportJson(f.gw, ['--since', '1h'])
  expect(await inbound(nodeB, { from: 'a@sender.test', to: 'b@example.com' })).toBe(250)
  expect(await inbound(nodeB, { from: 'ceo@example.com', to: 'b@example.com' })).toBe(550)
  const b = await waitForReport(f.gw, ['--since', '1h', '--node', 'node-b'], (x) => x.delivery.inbound.deliveries === 1 && x.messages.in === 1)
  expect(b.nodes).toEqual(['node-b'])
  expect(b.totals.inbound).toMatchObject({ messages_accepted: 1, sessions_rejected: 1 })
  expect(b.filters).toEqual([{ instance: 'inbound', check: 'sender-spoofing', first: 1, only: 1, also: 0 }])
  expect(b.messages.out).toBe(0)

  const all = reportJson(f.gw, ['--since', '1h'])
  expect(all.nodes).toEqual(['node-a', 'node-b'])
  expect(all.messages.in).toBe(before.messages.in + 1)
  expect(all.messages.out).toBe(before.messages.out)
  expect(all.totals.inbound.connections).toBe((before.totals.inbound.connections ?? 0) + 2)
  expect(all.delivery.inbound.deliveries).toBe(before.delivery.inbound.deliveries + 1)
  expect(all.filters.find((x) => x.check === 'sender-spoofing')).toEqual({ instance: 'inbound', check: 'sender-spoofing', first: 3, only: 2, also: 0 })
  const a = reportJson(f.gw, ['--since', '1h', '--node', 'node-a'])
  for (const field of Object.keys(all.totals.inbound)) {
    expect(all.totals.inbound[field], field).toBe((a.totals.inbound[field] ?? 0) + (b.totals.inbound[field] ?? 0))
  }
})

it('counts a quarantined message (with its ROI) and its release', async () => {
  const before = reportJson(f.gw, ['--since', '1h', '--node', 'node-a'])
  expect(await inbound(f.gw, { from: 'cfo@example.com', to: 'b@example.com' })).toBe(250)
  const store = new QuarantineStore(path.join(f.gw.root, 'inbound', 'quarantine'))
  await expect.poll(() => store.list().length).toBe(1)
  // asynchronously: the released message is delivered to the sink living in this process
  const released = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'quarantine', 'release', store.list()[0]!.id], { env: { ...f.gw.env('inbound'), GATEWAY_ROOT: f.gw.root } }, (err, _out, stderr) =>
      resolve({ code: err ? 1 : 0, stderr }),
    ),
  )
  expect(released.code, released.stderr).toBe(0)
  const r = await waitForReport(f.gw, ['--since', '1h', '--node', 'node-a'], (x) => x.quarantine.released === 1)
  expect(r.quarantine).toEqual({ quarantined: 1, released: 1 })
  expect(r.messages.in).toBe(before.messages.in + 1) // held mail was accepted (250)
  expect(r.filters).toContainEqual({ instance: 'inbound', check: 'sender-protected', first: 1, only: 1, also: 0 })
})

it('refuses bad arguments with a usage line (exit 64)', () => {
  const r = runReport(f.gw, ['--since', 'last-week'])
  expect(r.status).toBe(64)
  expect(r.stderr).toMatch(/--since "last-week".*\n.*usage: gateway report/)
})
