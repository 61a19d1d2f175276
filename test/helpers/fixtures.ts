// The usual test setup in one call: a MailSink as the internal server and a real
// gateway delivering to it, started before the file's (or describe block's) tests
// and stopped after them.

import { spawnSync } from 'node:child_process'
import path from 'node:path'

import { afterAll, beforeAll, inject } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'

import { type SmtpReply } from '../../lib/smtp/client'
import { FixtureDns } from './dns-server'
import { sendMail, testMessage, TestGateway, type GatewayOptions, type Instance } from './gateway'
import { MailSink, type ReceivedMessage } from './mail-sink'
import { addressBlock, type AddressBlock } from './net'

export interface Fixture {
  block: AddressBlock
  sink: MailSink
  gw: TestGateway
}

/** Registers beforeAll/afterAll in the current suite; defaults to the inbound instance only. */
export function gatewayWithSink(opts: Partial<Omit<GatewayOptions, 'internalHosts'>> = {}): Fixture {
  const block = opts.block ?? addressBlock()
  const sink = new MailSink({ host: block.ip(3), port: 2526 })
  const gw = new TestGateway({ instances: ['inbound'], ...opts, block, redisUrl: opts.redisUrl ?? inject('redisUrl'), internalHosts: [sink.address] })
  beforeAll(async () => {
    await sink.start()
    await gw.start()
  })
  afterAll(async () => {
    await gw.stop()
    await sink.stop()
  })
  return { block, sink, gw }
}

export interface Sent {
  mail: SmtpReply
  rcpts: SmtpReply[]
  end?: SmtpReply
  marker: string
}

/** One message in its own session: EHLO, MAIL, RCPT..., DATA, QUIT. */
export async function sendOne(
  gw: TestGateway,
  m: { from: string; to: string[]; headerFrom?: string; subject?: string; headers?: string[]; instance?: Instance; localAddress?: string },
): Promise<Sent> {
  const { client } = await gw.connect(m.instance ?? 'inbound', m.localAddress)
  await client.ehlo('mx.sender.test')
  const { text, marker } = testMessage({ from: m.headerFrom ?? m.from, to: m.to[0]!, ...(m.subject ? { subject: m.subject } : {}), ...(m.headers ? { headers: m.headers } : {}) })
  const r = await sendMail(client, { from: m.from, to: m.to }, text)
  await client.quit()
  return { mail: r.mail, rcpts: r.rcpts, ...(r.end ? { end: r.end } : {}), marker }
}

/** Waits until `sink` received the message carrying `marker`. */
export async function delivered(sink: MailSink, marker: string, timeoutMs = 20_000): Promise<ReceivedMessage> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const m = sink.messages.find((x) => x.raw.includes(marker))
    if (m) return m
    if (Date.now() > until) throw new Error(`${sink.address} did not receive the message ${marker} in ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Adds an outbound relay user with the real CLI (`gateway user add`), as an administrator would. */
export function addUser(gw: TestGateway, name: string, password: string): void {
  const r = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'user', 'add', name], {
    input: `${password}\n`,
    env: { ...process.env, GATEWAY_USERS_FILE: path.join(gw.root, 'outbound', 'config', 'smtp-users') },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`gateway user add ${name} failed: ${r.stderr}`)
}

export interface OutboundFixture {
  block: AddressBlock
  /** The internal mail server (accepted domains, bounces). */
  internal: MailSink
  /** The Internet: partner.test's MX, mx.partner.test at block.ip(10), port 25 as always. */
  remoteMx: MailSink
  dns: FixtureDns
  gw: TestGateway
}

/**
 * The usual outbound setup, registered in the current suite: an internal server, a
 * remote MX for partner.test found through the fixture DNS, and the outbound
 * instance. `prepare` runs after the servers are up and before the instance
 * starts (users, keys, more DNS records).
 */
export function outboundWithPartnerMx(
  opts: { files?: Record<string, string> | ((block: AddressBlock) => Record<string, string>); env?: Record<string, string>; prepare?: (f: OutboundFixture) => void | Promise<void> } = {},
): OutboundFixture {
  const block = addressBlock()
  const files = typeof opts.files === 'function' ? opts.files(block) : opts.files
  const internal = new MailSink({ host: block.ip(3), port: 2526 })
  const remoteMx = new MailSink({ host: block.ip(10), port: 25 })
  const dns = new FixtureDns(block.ip(53), 5353)
    .add('partner.test', { type: 'MX', preference: 10, exchange: 'mx.partner.test' })
    .add('mx.partner.test', { type: 'A', data: block.ip(10) })
  const gw = new TestGateway({
    block,
    redisUrl: inject('redisUrl'),
    internalHosts: [internal.address],
    dnsServer: dns.address,
    instances: ['outbound'],
    ...(files ? { files } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  })
  const fixture = { block, internal, remoteMx, dns, gw }
  beforeAll(async () => {
    await Promise.all([internal.start(), remoteMx.start(), dns.start()])
    await opts.prepare?.(fixture)
    await gw.start()
  })
  afterAll(async () => {
    await gw.stop()
    await Promise.all([internal.stop(), remoteMx.stop(), dns.stop()])
  })
  return fixture
}
