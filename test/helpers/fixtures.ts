// The usual test setup in one call: a MailSink as the internal server and a real
// gateway delivering to it, with what else the file needs (fixture DNS, a PROXY
// front, engines, fake MX hosts, more gateways on the same sink), started before
// the file's (or describe block's) tests and stopped after them.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { afterAll, afterEach, beforeAll, inject } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'

import { type SmtpReply } from '../../lib/smtp/client'
import { FixtureDns } from './dns-server'
import { sendMail, testMessage, TestGateway, type GatewayOptions, type Instance } from './gateway'
import { MailSink, type ReceivedMessage } from './mail-sink'
import { addressBlock, type AddressBlock } from './net'
import { ProxyFront } from './proxy-front'

/** A server a test gateway needs beside it: fixture DNS, an engine, a fake MX, a Redis. */
export interface Service {
  start(): Promise<unknown>
  stop(): Promise<unknown>
}

/** How another gateway of a fixture differs from its `gw`: `files` are merged over the fixture's. */
export type GatewayOverrides = Partial<Omit<GatewayOptions, 'block' | 'internalHosts'>>

export interface FixtureOptions<V extends string = never> extends Partial<Omit<GatewayOptions, 'internalHosts' | 'files'>> {
  files?: Record<string, string> | ((block: AddressBlock) => Record<string, string>)
  /** The internal servers the gateway delivers to (default: the sink only). */
  internalHosts?: (sink: MailSink) => string[]
  /** The gateway's DNS (dnsServer), started and stopped with it. */
  dns?: FixtureDns
  /**
   * A PROXY-protocol front (HAProxy stand-in) at block.ip(9):2525 before the inbound
   * instance, which connection.ini [haproxy] trusts; tests connect through it from
   * these addresses of the block (last octets), announcing a public client address.
   */
  front?: readonly number[]
  /** More servers, started with the sink before the gateway and stopped after it. */
  services?: readonly Service[]
  /** Runs once the servers are up, before the gateways start (users, keys, queue files). */
  prepare?: (f: Fixture<V>) => void | Promise<void>
  /** More gateways delivering to the same sink, each on its own address block, started and stopped with `gw`. */
  variants?: Record<V, GatewayOverrides>
  /** Time for starting it all (default: the configured hookTimeout); an engine's cold start may need more. */
  startTimeoutMs?: number
}

export interface Fixture<V extends string = never> {
  block: AddressBlock
  sink: MailSink
  gw: TestGateway
  variants: Record<V, TestGateway>
  /** The PROXY front (only with the `front` option). */
  readonly front: ProxyFront
  /** A gateway like `gw` changed by `overrides`, on its own addresses; not started (the test starts and stops it). */
  another(overrides?: GatewayOverrides): TestGateway
  /** A gateway like `gw` changed by `overrides`, on its own addresses, that must refuse to start: its exit code and output. */
  startRefused(instance: Instance, overrides?: GatewayOverrides): Promise<{ code: number | null; stdout: string; stderr: string }>
}

const SHIPPED_CONNECTION_INI = path.join(GATEWAY_ROOT, 'inbound', 'config', 'connection.ini')

/** The repository's inbound connection.ini, trusting PROXY lines from `front`. */
function behindFront(front: string): string {
  const text = fs.readFileSync(SHIPPED_CONNECTION_INI, 'utf8')
  const changed = text.replace(/^hosts\[\] =\s*$/m, `hosts[] = ${front}`)
  if (changed === text) throw new Error('inbound/config/connection.ini: [haproxy] hosts[] line not found')
  return changed
}

/**
 * Registers beforeAll/afterAll in the current suite; defaults to the inbound
 * instance only. Starts the sink, DNS and services together, then `prepare`, then
 * `gw` and its variants together, then the front; stops in the reverse order.
 */
export function gatewayWithSink<V extends string = never>(opts: FixtureOptions<V> = {}): Fixture<V> {
  const { files: filesOpt, internalHosts, dns, front: frontSources, services = [], prepare, variants: variantOpts, startTimeoutMs, ...gatewayOpts } = opts
  const block = opts.block ?? addressBlock()
  const sink = new MailSink({ host: block.ip(3), port: 2526 })
  const frontHost = block.ip(9)
  const files = {
    ...(frontSources ? { 'inbound/config/connection.ini': behindFront(frontHost) } : {}),
    ...(typeof filesOpt === 'function' ? filesOpt(block) : filesOpt),
  }
  const base: GatewayOptions = {
    instances: ['inbound'],
    ...gatewayOpts,
    block,
    redisUrl: opts.redisUrl ?? inject('redisUrl'),
    internalHosts: internalHosts ? internalHosts(sink) : [sink.address],
    ...(dns ? { dnsServer: dns.address } : {}),
    files,
  }
  const derived = (o: GatewayOverrides): TestGateway => new TestGateway({ ...base, ...o, block: addressBlock(), files: { ...files, ...o.files } })
  const gw = new TestGateway(base)
  const variants = Object.fromEntries(Object.entries<GatewayOverrides>(variantOpts ?? ({} as Record<V, GatewayOverrides>)).map(([name, o]) => [name, derived(o)])) as Record<V, TestGateway>
  const front = frontSources ? new ProxyFront(frontHost, 2525, gw.inbound, frontSources.map((n) => block.ip(n))) : undefined
  const servers = [sink, ...(dns ? [dns] : []), ...services]
  const gateways = [gw, ...Object.values<TestGateway>(variants)]
  const fixture: Fixture<V> = {
    block,
    sink,
    gw,
    variants,
    get front(): ProxyFront {
      if (!front) throw new Error('this fixture has no PROXY front: pass the front option')
      return front
    },
    another: (overrides = {}) => derived(overrides),
    async startRefused(instance, overrides = {}) {
      const refused = derived({ instances: [instance], ...overrides })
      try {
        return await refused.startExpectingExit(instance)
      } finally {
        await refused.stop()
      }
    },
  }
  beforeAll(async () => {
    await Promise.all(servers.map((s) => s.start()))
    await prepare?.(fixture)
    await Promise.all(gateways.map((g) => g.start()))
    await front?.start()
  }, startTimeoutMs)
  // a failure in CI leaves only the runner's output: put the instances' own words beside it
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') for (const g of gateways) process.stderr.write(`${task.name}: gateway logs\n${g.logTails()}\n`)
  })
  afterAll(async () => {
    await front?.stop()
    await Promise.all(gateways.map((g) => g.stop()))
    await Promise.all(servers.map((s) => s.stop()))
  })
  return fixture
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

/** One inbound session from `localAddress` trying `users`@example.com one RCPT after another (a directory harvester); their reply codes. */
export async function probeRecipients(gw: TestGateway, localAddress: string, users: readonly string[]): Promise<number[]> {
  const { client } = await gw.connect('inbound', localAddress)
  await client.ehlo()
  await client.send('MAIL FROM:<x@sender.test>')
  const codes = []
  for (const user of users) codes.push((await client.send(`RCPT TO:<${user}@example.com>`)).code)
  await client.quit()
  return codes
}

/** Waits until `sink` received the message carrying `marker`. */
export async function delivered(sink: MailSink, marker: string, timeoutMs = 20_000): Promise<ReceivedMessage> {
  return sink.waitForMessage((m) => m.raw.includes(marker), `the message ${marker}`, { timeoutMs })
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
  another: Fixture['another']
  startRefused: Fixture['startRefused']
}

/**
 * The usual outbound setup (gatewayWithSink with a remote MX): an internal server,
 * a remote MX for partner.test found through the fixture DNS (more records may be
 * added), and the outbound instance (or both, with `instances`). `prepare` runs
 * after the servers are up and before the instance starts (users, keys, more DNS records).
 */
export function outboundWithPartnerMx(
  opts: Pick<FixtureOptions, 'files' | 'env' | 'instances' | 'acceptedDomains'> & { prepare?: (f: OutboundFixture) => void | Promise<void> } = {},
): OutboundFixture {
  const block = addressBlock()
  const remoteMx = new MailSink({ host: block.ip(10), port: 25 })
  const dns = new FixtureDns(block.ip(53), 5353)
    .add('partner.test', { type: 'MX', preference: 10, exchange: 'mx.partner.test' })
    .add('mx.partner.test', { type: 'A', data: block.ip(10) })
  const { prepare, ...rest } = opts
  const f = gatewayWithSink({
    instances: ['outbound'],
    ...rest,
    block,
    dns,
    services: [remoteMx],
    ...(prepare ? { prepare: () => prepare(fixture) } : {}),
  })
  const fixture: OutboundFixture = { block, internal: f.sink, remoteMx, dns, gw: f.gw, another: f.another, startRefused: f.startRefused }
  return fixture
}
