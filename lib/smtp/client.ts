// A small, literal SMTP client: it sends exactly the lines it is given and
// returns each reply with its basic and enhanced code. The CLI's `gateway send`
// and the integration tests use it; tests need to see every reply, which
// higher-level mail libraries hide.

import net from 'node:net'
import tls from 'node:tls'

export interface SmtpReply {
  code: number
  /** Enhanced status code ("5.7.1") if the server sent one, else "". */
  enhanced: string
  /** Text of all lines, joined by newlines, without codes. */
  text: string
  lines: string[]
}

export interface ConnectOptions {
  host: string
  port: number
  /** Local address to connect from. */
  localAddress?: string
  timeoutMs?: number
}

export class SmtpClient {
  private buffer = ''
  private pending: SmtpReply[] = []
  private waiters: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void }[] = []
  private closedError: Error | undefined
  private socket: net.Socket | tls.TLSSocket

  private constructor(
    socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    this.socket = socket
    this.attach(socket)
  }

  /** Connects and reads the greeting. */
  static async connect(opts: ConnectOptions): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
    const socket = net.connect({ host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const client = new SmtpClient(socket, opts.timeoutMs ?? 30_000)
    const greeting = await client.read()
    return { client, greeting }
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => this.onData(chunk))
    const closed = (err?: Error) => {
      this.closedError ??= err ?? new Error('connection closed')
      for (const w of this.waiters.splice(0)) w.reject(this.closedError)
    }
    socket.on('error', closed)
    socket.on('close', () => closed())
  }

  private onData(chunk: string): void {
    this.buffer += chunk
    let lines: string[] = []
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '')
      this.buffer = this.buffer.slice(nl + 1)
      lines.push(line)
      if (/^\d{3}(?: |$)/.test(line)) {
        this.deliver(parseReply(lines))
        lines = []
      }
    }
    // an incomplete multi-line reply waits for the rest
    if (lines.length) this.buffer = `${lines.join('\n')}\n${this.buffer}`
  }

  private deliver(reply: SmtpReply): void {
    const waiter = this.waiters.shift()
    if (waiter) waiter.resolve(reply)
    else this.pending.push(reply)
  }

  /** The next reply from the server. */
  read(): Promise<SmtpReply> {
    const ready = this.pending.shift()
    if (ready) return Promise.resolve(ready)
    if (this.closedError) return Promise.reject(this.closedError)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new Error(`no SMTP reply within ${this.timeoutMs} ms`))
      }, this.timeoutMs)
      const waiter = {
        resolve: (r: SmtpReply) => (clearTimeout(timer), resolve(r)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      }
      this.waiters.push(waiter)
    })
  }

  /** Sends one command line and returns the reply. */
  async send(line: string): Promise<SmtpReply> {
    this.write(`${line}\r\n`)
    return this.read()
  }

  write(data: string | Buffer): void {
    this.socket.write(data)
  }

  /** EHLO, returning the advertised extensions (upper-cased keywords with their arguments). */
  async ehlo(name = 'client.test'): Promise<{ reply: SmtpReply; extensions: string[] }> {
    const reply = await this.send(`EHLO ${name}`)
    return { reply, extensions: reply.lines.slice(1).map((l) => l.toUpperCase()) }
  }

  /** STARTTLS and the TLS handshake (certificates are not verified: tests use self-signed ones). */
  async startTls(servername?: string): Promise<SmtpReply> {
    const reply = await this.send('STARTTLS')
    if (reply.code !== 220) return reply
    const plain = this.socket as net.Socket
    plain.removeAllListeners('data')
    plain.removeAllListeners('close')
    plain.removeAllListeners('error')
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false, ...(servername ? { servername } : {}) })
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve)
      secure.once('error', reject)
    })
    this.socket = secure
    this.attach(secure)
    return reply
  }

  /** DATA with a message (CRLF line ends and dot-stuffing applied), returning the final reply. */
  async data(message: string | Buffer): Promise<{ start: SmtpReply; end?: SmtpReply }> {
    const start = await this.send('DATA')
    if (start.code !== 354) return { start }
    // A Buffer is sent byte for byte (8-bit bodies, signed messages): latin1 maps each byte to one char and back.
    const encoding = Buffer.isBuffer(message) ? 'latin1' : 'utf8'
    const text = Buffer.isBuffer(message) ? message.toString('latin1') : message
    const body = text.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')
    this.write(Buffer.from(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, encoding))
    return { start, end: await this.read() }
  }

  get isSecure(): boolean {
    return this.socket instanceof tls.TLSSocket
  }

  /** QUIT (if still connected) and close. */
  async quit(): Promise<void> {
    if (!this.closedError) {
      try {
        await this.send('QUIT')
      } catch {
        // already gone
      }
    }
    this.socket.destroy()
  }

  /** Whether the server has closed the connection. */
  get closed(): boolean {
    return this.closedError !== undefined
  }

  /** Resolves when the server closes the connection. */
  waitClosed(): Promise<void> {
    if (this.closedError) return Promise.resolve()
    return new Promise((resolve) => this.socket.once('close', () => resolve()))
  }
}

export function parseReply(lines: string[]): SmtpReply {
  const code = Number(lines[lines.length - 1]!.slice(0, 3))
  const texts = lines.map((l) => l.slice(4))
  const m = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/.exec(texts[0] ?? '')
  return { code, enhanced: m ? m[1]! : '', text: texts.join('\n'), lines: texts }
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64')
}
