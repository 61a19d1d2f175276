// A stand-in for HAProxy in front of the inbound instance: it accepts a test's
// SMTP connection and forwards it to the gateway behind a PROXY protocol v1
// line announcing a chosen public client address. The gateway (with
// connection.ini [haproxy] hosts[] = this front) then sees that address, as it
// sees real Internet clients behind a load balancer. Needed for SPF: the SPF
// plugin skips loopback and private clients, which every test client is.

import net from 'node:net'

import { SmtpClient, type SmtpReply } from '../../lib/smtp/client'

export class ProxyFront {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  /** Loopback source address of a test connection -> the client address announced for it. */
  private readonly announced = new Map<string, string>()
  private nextSource = 0

  constructor(
    /** Where the front listens; also the address the gateway must trust for PROXY. */
    readonly host: string,
    readonly port: number,
    private readonly target: { host: string; port: number },
    /** Loopback addresses the test connects from, one per announced client. */
    private readonly sources: readonly string[],
  ) {}

  async start(): Promise<this> {
    const server = net.createServer((inbound) => this.forward(inbound))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, this.host, () => resolve())
    })
    this.server = server
    return this
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    const server = this.server
    this.server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** An SMTP session that reaches the gateway as if from `clientIp`. */
  async connect(clientIp: string): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
    const source = this.sources[this.nextSource++ % this.sources.length]!
    this.announced.set(source, clientIp)
    return SmtpClient.connect({ host: this.host, port: this.port, localAddress: source, timeoutMs: 30_000 })
  }

  private forward(inbound: net.Socket): void {
    const from = (inbound.remoteAddress ?? '').replace(/^::ffff:/, '')
    const clientIp = this.announced.get(from)
    if (!clientIp) return void inbound.destroy()
    const outbound = net.connect({ host: this.target.host, port: this.target.port, localAddress: this.host })
    for (const s of [inbound, outbound]) {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
      s.on('error', () => {
        inbound.destroy()
        outbound.destroy()
      })
    }
    outbound.once('connect', () => {
      outbound.write(`PROXY TCP4 ${clientIp} ${this.target.host} ${inbound.remotePort ?? 0} ${this.target.port}\r\n`)
      inbound.pipe(outbound)
      outbound.pipe(inbound)
    })
  }
}
