// A remote MX for TLS policy tests: a real SMTP server (smtp-server) that offers
// STARTTLS with the certificate it is given (or none at all), and records what
// it received and whether the session was encrypted. MailSink (mail-sink.ts)
// only knows smtp-server's built-in certificate.

import { SMTPServer } from 'smtp-server'

import type { ReceivedMessage } from './mail-sink'
import type { KeyPair } from './test-ca'

export interface TlsSinkOptions {
  host: string
  port: number
  /** The STARTTLS certificate; without one STARTTLS is not offered. */
  tls?: KeyPair
  /** Reply to every DATA with this error, e.g. { code: 550, text: '5.1.1 no such user' }. */
  failData?: { code: number; text: string }
}

export class TlsMailSink {
  readonly messages: ReceivedMessage[] = []
  /** Sessions seen, with whether STARTTLS was completed before MAIL. */
  readonly sessions: { secure: boolean; from: string }[] = []
  failData: { code: number; text: string } | undefined
  private server: SMTPServer | undefined

  constructor(readonly opts: TlsSinkOptions) {
    this.failData = opts.failData
  }

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: this.opts.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      ...(this.opts.tls ? { key: this.opts.tls.key, cert: this.opts.tls.cert } : {}),
      logger: false,
      closeTimeout: 500,
      onMailFrom: (address, session, callback) => {
        this.sessions.push({ secure: session.secure, from: address.address })
        callback()
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          if (this.failData) return callback(Object.assign(new Error(this.failData.text), { responseCode: this.failData.code }))
          this.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            remoteAddress: session.remoteAddress.replace(/^::ffff:/, ''),
            helo: session.hostNameAppearsAs,
            secure: session.secure,
          })
          callback()
        })
      },
    })
    server.on('error', () => {}) // failed TLS handshakes are what some tests provoke
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.port, this.opts.host, () => resolve())
    })
    this.server = server
    return this
  }

  async stop(): Promise<void> {
    const s = this.server
    this.server = undefined
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  async waitFor(count: number, timeoutMs = 20_000): Promise<ReceivedMessage[]> {
    const until = Date.now() + timeoutMs
    while (this.messages.length < count) {
      if (Date.now() > until) throw new Error(`${this.opts.host}:${this.opts.port} received ${this.messages.length} of ${count} messages in ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 50))
    }
    return this.messages
  }
}
