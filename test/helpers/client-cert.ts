// Client certificates for the outbound mutual-TLS tests: a self-signed pair made
// with openssl, and a literal SMTP session that presents it after STARTTLS (the
// shared SmtpClient has no way to send a client certificate).

import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import tls from 'node:tls'

import { parseReply, type SmtpReply } from '../../lib/smtp/client'

export interface ClientCert {
  cert: string
  key: string
  /** SHA-256 fingerprint as openssl prints it (AB:CD:...). */
  fingerprint: string
}

/** A self-signed EC certificate for `cn`, valid from now for two days. */
export function makeClientCert(dir: string, cn: string): ClientCert {
  fs.mkdirSync(dir, { recursive: true })
  const keyFile = path.join(dir, `${cn}.key.pem`)
  const certFile = path.join(dir, `${cn}.cert.pem`)
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${cn}`],
    { encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`openssl failed (is it installed?): ${r.stderr}`)
  const cert = fs.readFileSync(certFile, 'utf8')
  return { cert, key: fs.readFileSync(keyFile, 'utf8'), fingerprint: new crypto.X509Certificate(cert).fingerprint256 }
}

/** One SMTP session, line by line, that can answer the server's certificate request. */
export class CertSmtpSession {
  private buffer = ''
  private lines: string[] = []
  private replies: SmtpReply[] = []
  private waiters: ((r: SmtpReply | Error) => void)[] = []
  private closed: Error | undefined

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach(socket)
  }

  static async connect(opts: { host: string; port: number; localAddress?: string }): Promise<CertSmtpSession> {
    const socket = net.connect({ host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) })
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    const session = new CertSmtpSession(socket)
    const greeting = await session.read()
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.text}`)
    return session
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      let nl: number
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).replace(/\r$/, '')
        this.buffer = this.buffer.slice(nl + 1)
        this.lines.push(line)
        if (/^\d{3}(?: |$)/.test(line)) {
          const reply = parseReply(this.lines.splice(0))
          const waiter = this.waiters.shift()
          if (waiter) waiter(reply)
          else this.replies.push(reply)
        }
      }
    })
    const onClose = () => {
      this.closed ??= new Error('connection closed')
      for (const w of this.waiters.splice(0)) w(this.closed)
    }
    socket.on('close', onClose)
    socket.on('error', onClose)
  }

  read(): Promise<SmtpReply> {
    const ready = this.replies.shift()
    if (ready) return Promise.resolve(ready)
    if (this.closed) return Promise.reject(this.closed)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no SMTP reply within 30 s')), 30_000)
      this.waiters.push((r) => {
        clearTimeout(timer)
        if (r instanceof Error) reject(r)
        else resolve(r)
      })
    })
  }

  send(line: string): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`)
    return this.read()
  }

  async ehlo(): Promise<string[]> {
    const r = await this.send('EHLO client.test')
    return r.lines.slice(1).map((l) => l.toUpperCase())
  }

  /** STARTTLS, presenting `client` (if given) when the server asks for a certificate. */
  async startTls(client?: { cert: string; key: string }): Promise<void> {
    const r = await this.send('STARTTLS')
    if (r.code !== 220) throw new Error(`STARTTLS answered ${r.code} ${r.text}`)
    const plain = this.socket as net.Socket
    plain.removeAllListeners('data')
    plain.removeAllListeners('close')
    plain.removeAllListeners('error')
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false, ...(client ?? {}) })
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject))
    this.socket = secure
    this.attach(secure)
  }

  /** DATA with a CRLF message; the reply after the final dot (or DATA's own refusal). */
  async data(message: string): Promise<SmtpReply> {
    const start = await this.send('DATA')
    if (start.code !== 354) return start
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')
    this.socket.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`)
    return this.read()
  }

  async quit(): Promise<void> {
    if (!this.closed) await this.send('QUIT').catch(() => undefined)
    this.socket.destroy()
  }
}
