// gateway-tcp-nodelay, checked in the kernel: while Haraka's delivery connection
// is open (the receiving servers here greet, then never answer), the test reads
// TCP_NODELAY of that very socket of the real Haraka process. The outbound
// instance loads the plugin; the inbound instance of the same gateway does not and
// serves as the control (same delivery code, option off).

import net from 'node:net'

import { afterAll, beforeAll, expect, inject, it } from 'vitest'

import { FixtureDns } from './helpers/dns-server'
import { sendMail, testMessage, TestGateway } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import { addUser, outboundPlugins, relaySession } from './helpers/outbound-relay'
import { tcpNoDelayOf } from './helpers/tcp-nodelay'
import { waitForMatch } from './helpers/wait'

const PASSWORD = 'correct horse battery'
const block = addressBlock()

/** An SMTP server that greets and then never answers: the client's socket stays open. */
class StallingServer {
  private readonly server = net.createServer((s) => {
    this.sockets.add(s)
    s.on('error', () => {})
    s.on('data', (d: Buffer) => {
      this.received += d.toString('latin1')
    })
    s.on('close', () => this.sockets.delete(s))
    s.write('220 stall.test ESMTP\r\n')
  })
  private readonly sockets = new Set<net.Socket>()
  received = ''

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.port, this.host, () => resolve())
    })
  }

  /** Waits until a client sent EHLO: Haraka got the socket, after the plugin's callback ran. */
  async waitForEhlo(timeoutMs = 20_000): Promise<void> {
    await waitForMatch(() => this.received, /^EHLO /m, { timeoutMs, where: `what ${this.host}:${this.port} received` })
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

const remoteMx = new StallingServer(block.ip(10), 25)
const internal = new StallingServer(block.ip(3), 2526)
const dns = new FixtureDns(block.ip(53), 5353)
  .add('stall.test', { type: 'MX', preference: 10, exchange: 'mx.stall.test' })
  .add('mx.stall.test', { type: 'A', data: block.ip(10) })

const gw = new TestGateway({
  block,
  redisUrl: inject('redisUrl'),
  internalHosts: [`${internal.host}:${internal.port}`],
  dnsServer: dns.address,
  files: {
    'outbound/config/plugins': outboundPlugins({ nodelay: true }),
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
    'inbound/config/plugins': 'gateway-core\ntls\ngateway-stats\ngateway-refuse-auth\ngateway-accepted-domains\ngateway-spool\ngateway-routing\n',
  },
})

beforeAll(async () => {
  await Promise.all([remoteMx.start(), internal.start(), dns.start()])
  addUser(gw, 'app@example.com', PASSWORD)
  await gw.start()
})
afterAll(async () => {
  await Promise.all([remoteMx.stop(), internal.stop()])
  await gw.stop()
  await dns.stop()
})

it('the outbound delivery socket to the remote MX has TCP_NODELAY set; without the plugin (inbound) it has not', async () => {
  // outbound, with gateway-tcp-nodelay: relay to stall.test
  const client = await relaySession(gw, 'app@example.com', PASSWORD)
  const out = testMessage({ from: 'app@example.com', to: 'someone@stall.test' })
  expect((await sendMail(client, { from: 'app@example.com', to: ['someone@stall.test'] }, out.text)).end?.code).toBe(250)
  await client.quit()

  // inbound, without it: delivery to the internal server
  const { client: c2 } = await gw.connect('inbound')
  await c2.ehlo('mx.sender.test')
  const inb = testMessage({ from: 'x@sender.test', to: 'bob@example.com' })
  expect((await sendMail(c2, { from: 'x@sender.test', to: ['bob@example.com'] }, inb.text)).end?.code).toBe(250)
  await c2.quit()

  await Promise.all([remoteMx.waitForEhlo(), internal.waitForEhlo()])
  expect(await tcpNoDelayOf(gw.pid('outbound'), remoteMx.host, remoteMx.port)).toEqual([true])
  expect(await tcpNoDelayOf(gw.pid('inbound'), internal.host, internal.port)).toEqual([false])
  expect(gw.log('outbound')).toContain('[gateway-tcp-nodelay] TCP_NODELAY on for outgoing SMTP connections')
})
