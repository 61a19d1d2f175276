// A real SMTP server (nodemailer's smtp-server) that stands in for the internal
// mail server or a remote MX in tests and records exactly what it received:
// envelope, raw bytes, the client's address and its EHLO name.

import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import { vi } from 'vitest'

export interface ReceivedMessage {
  from: string
  to: string[]
  raw: string
  /** The message exactly as received (raw is its UTF-8 reading, which hides 8-bit bytes). */
  bytes: Buffer
  remoteAddress: string
  helo: string
  secure: boolean
}

export interface SinkOptions {
  host: string
  port: number
  /** Offer STARTTLS: true = smtp-server's built-in test certificate, or this key and certificate. */
  tls?: boolean | { key: string | Buffer; cert: string | Buffer }
  /** Answer every DATA with this error from the start (see failData). */
  failData?: { code: number; text: string }
}

export class MailSink {
  readonly messages: ReceivedMessage[] = []
  /** Sessions that reached MAIL, with whether STARTTLS was completed before it. */
  readonly sessions: { secure: boolean; from: string }[] = []
  /** When set, every DATA is answered with this error (e.g. { code: 451, text: '4.3.0 busy' }). */
  failData: { code: number; text: string } | undefined
  /** Refuse DATA only for some messages: return the error for this envelope, or undefined to accept. */
  failFor: ((to: string[]) => { code: number; text: string } | undefined) | undefined
  private server: SMTPServer | undefined

  constructor(readonly opts: SinkOptions) {
    this.failData = opts.failData
  }

  get address(): string {
    return `${this.opts.host}:${this.opts.port}`
  }

  async start(): Promise<this> {
    const options: SMTPServerOptions = {
      authOptional: true,
      disabledCommands: this.opts.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      ...(typeof this.opts.tls === 'object' ? { key: this.opts.tls.key, cert: this.opts.tls.cert } : {}),
      onMailFrom: (address, session, callback) => {
        this.sessions.push({ secure: session.secure, from: address.address })
        callback()
      },
      logger: false,
      // Haraka may hold delivery connections open; do not wait for them on stop
      closeTimeout: 500,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          const fail = this.failData ?? this.failFor?.(session.envelope.rcptTo.map((r) => r.address))
          if (fail) {
            const err = Object.assign(new Error(fail.text), { responseCode: fail.code })
            return callback(err)
          }
          this.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            bytes: Buffer.concat(chunks),
            remoteAddress: session.remoteAddress.replace(/^::ffff:/, ''),
            helo: session.hostNameAppearsAs,
            secure: session.secure,
          })
          callback()
        })
      },
    }
    const server = new SMTPServer(options)
    server.on('error', () => {}) // client resets and failed TLS handshakes are what some tests provoke
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

  /** Waits until at least `count` messages arrived. */
  async waitFor(count: number, timeoutMs = 20_000): Promise<ReceivedMessage[]> {
    return vi.waitFor(
      () => {
        if (this.messages.length >= count) return this.messages
        throw new Error(`${this.address} received ${this.messages.length} of ${count} messages in ${timeoutMs} ms`)
      },
      { timeout: timeoutMs, interval: 50 },
    )
  }

  /** Waits until a message matching `match` arrived and returns it; `what` names it in the timeout error. */
  async waitForMessage(match: (m: ReceivedMessage) => boolean, what: string, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<ReceivedMessage> {
    const timeoutMs = opts.timeoutMs ?? 20_000
    return vi.waitFor(
      () => {
        const m = this.messages.find(match)
        if (m) return m
        throw new Error(`${this.address} did not receive ${what} in ${timeoutMs} ms (${this.messages.length} other message(s) arrived)`)
      },
      { timeout: timeoutMs, interval: opts.intervalMs ?? 50 },
    )
  }
}
