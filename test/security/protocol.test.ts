// Protocol abuse, on both instances, the way attack tools send it:
// - STARTTLS command injection (CVE-2011-0411 class): a command pipelined behind
//   STARTTLS in the same packet must never run inside the TLS session;
// - commands pipelined behind the end of DATA (the smuggling delivery vector):
//   refused, and no second message comes out of the first;
// - AUTH abuse on outbound: malformed SASL, unknown mechanisms, prototype names,
//   an authzid other than the authcid; always a refusal with an enhanced code,
//   never 235, and a correct login still works afterwards on a new session.
// (Smuggling by line-ending variants: test/security/message-integrity.test.ts.)

import net from 'node:net'
import tls from 'node:tls'

import { describe, expect, it } from 'vitest'

import { base64 } from '../../lib/smtp/client'
import { addUser, gatewayWithSink } from '../helpers/fixtures'
import { testMessage, type TestGateway } from '../helpers/gateway'
import { addressBlock } from '../helpers/net'

const block = addressBlock()
const { gw, sink } = gatewayWithSink({ block, instances: ['inbound', 'outbound'], prepare: ({ gw }) => addUser(gw, 'relay', 'relay-password') })

/** A raw socket that collects complete SMTP replies (the last line of each: "250 ..."). */
class RawSession {
  private buffer = ''
  private replies: string[] = []
  private waiters: (() => void)[] = []

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.listen(socket)
  }

  static async open(host: string, port: number, localAddress?: string): Promise<RawSession> {
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) })
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    const s = new RawSession(socket)
    await s.reply() // banner
    return s
  }

  private listen(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => {
      this.buffer += d
      let nl: number
      while ((nl = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, nl)
        this.buffer = this.buffer.slice(nl + 2)
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) this.replies.push(line)
      }
      for (const w of this.waiters.splice(0)) w()
    })
    socket.on('error', () => undefined)
  }

  write(data: string): void {
    this.socket.write(data)
  }

  /** The next complete reply's last line. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs
    while (this.replies.length === 0) {
      if (Date.now() > end) throw new Error('no reply')
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
    return this.replies.shift()!
  }

  /** Replies received so far and not read. */
  get unread(): readonly string[] {
    return this.replies
  }

  /** TLS on the same TCP connection, dropping whatever plain text was buffered (as a careful client does). */
  async upgrade(): Promise<void> {
    const plain = this.socket as net.Socket
    plain.removeAllListeners('data')
    this.buffer = ''
    this.replies = []
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false })
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject))
    this.socket = secure
    this.listen(secure)
  }

  close(): void {
    this.socket.destroy()
  }
}

const at = (g: TestGateway, instance: 'inbound' | 'outbound') => (instance === 'inbound' ? g.inbound : g.outbound)

describe.each(['inbound', 'outbound'] as const)('%s', (instance) => {
  it('never runs a command injected behind STARTTLS inside the TLS session', async () => {
    const s = await RawSession.open(at(gw, instance).host, at(gw, instance).port)
    try {
      s.write('EHLO attacker.test\r\n')
      expect(await s.reply()).toMatch(/^250 /)
      // one packet: STARTTLS and a MAIL the attacker wants to run in the victim's TLS session
      s.write('STARTTLS\r\nMAIL FROM:<injected@attacker.test>\r\n')
      expect(await s.reply()).toMatch(/^220 /)
      await s.upgrade()
      // without EHLO and MAIL, RCPT is out of sequence: unless the injected MAIL ran
      s.write('RCPT TO:<bob@example.com>\r\n')
      expect(await s.reply()).toMatch(/^503 5\.5\.1 /)
    } finally {
      s.close()
    }
  })
})

describe('inbound, pipelining behind the end of DATA', () => {
  it('refuses the commands sent behind the message, and only the message itself arrives', async () => {
    const s = await RawSession.open(gw.inbound.host, gw.inbound.port)
    try {
      s.write('EHLO attacker.test\r\n')
      expect(await s.reply()).toMatch(/^250 /)
      s.write('MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n')
      expect(await s.reply()).toMatch(/^250 /)
      expect(await s.reply()).toMatch(/^250 /)
      expect(await s.reply()).toMatch(/^354 /)
      const first = testMessage({ from: 'alice@sender.test', to: 'bob@example.com', subject: 'first' })
      const second = testMessage({ from: 'alice@sender.test', to: 'bob@example.com', subject: 'smuggled' })
      // the end of data and a whole second transaction in one packet
      s.write(`${first.text}\r\n.\r\nMAIL FROM:<ceo@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n${second.text}\r\n.\r\n`)
      expect(await s.reply()).toMatch(/^250 /)
      const after: string[] = []
      for (let i = 0; i < 3; i++) after.push(await s.reply())
      for (const r of after) expect(r).toMatch(/^5\d\d /)
      await sink.waitForMessage((m) => m.raw.includes(first.marker), 'the first message')
      // a message sent afterwards on a new session arrives; the smuggled one never does
      const later = testMessage({ from: 'alice@sender.test', to: 'bob@example.com' })
      const c = await gw.connect('inbound')
      await c.client.ehlo('mx.sender.test')
      await c.client.send('MAIL FROM:<alice@sender.test>')
      await c.client.send('RCPT TO:<bob@example.com>')
      expect((await c.client.data(later.text)).end?.code).toBe(250)
      await c.client.quit()
      await sink.waitForMessage((m) => m.raw.includes(later.marker), 'the later message')
      expect(sink.messages.some((m) => m.raw.includes(second.marker))).toBe(false)
    } finally {
      s.close()
    }
  })
})

describe('outbound, AUTH abuse', () => {
  /** A session after EHLO, STARTTLS, EHLO (from `localAddress`: each test its own, so one's failures never lock another out). */
  async function tlsSession(localAddress?: string): Promise<RawSession> {
    const s = await RawSession.open(gw.outbound.host, gw.outbound.port, localAddress)
    s.write('EHLO app.corp.example\r\n')
    await s.reply()
    s.write('STARTTLS\r\n')
    expect(await s.reply()).toMatch(/^220 /)
    await s.upgrade()
    s.write('EHLO app.corp.example\r\n')
    expect(await s.reply()).toMatch(/^250 /)
    return s
  }

  const MALFORMED: [what: string, lines: string[]][] = [
    ['PLAIN, not base64', ['AUTH PLAIN !!!not*base64!!!']],
    ['PLAIN, no NUL separators', [`AUTH PLAIN ${base64('relayrelay-password')}`]],
    ['PLAIN, empty', ['AUTH PLAIN =']],
    ['PLAIN, four fields', [`AUTH PLAIN ${base64('\0relay\0relay-password\0extra')}`]],
    ['PLAIN, cancelled', ['AUTH PLAIN', '*']],
    ['LOGIN, user not base64', ['AUTH LOGIN', '%%%']],
    ['LOGIN, cancelled at the password', ['AUTH LOGIN', base64('relay'), '*']],
    ['LOGIN, a 20 kB answer', ['AUTH LOGIN', 'A'.repeat(20_000)]],
    ['unknown mechanism', ['AUTH CRAM-MD5']],
    ['mechanism with a prototype name', ['AUTH constructor']],
  ]

  it.each(MALFORMED)('refuses %s with a 5xx and an enhanced code', async (_what, lines) => {
    const s = await tlsSession()
    try {
      let last = ''
      for (const line of lines) {
        s.write(`${line}\r\n`)
        last = await s.reply()
        if (!last.startsWith('334')) break
      }
      expect(last).toMatch(/^5\d\d 5\.\d\.\d+ /)
    } finally {
      s.close()
    }
  })

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('refuses the user name %s whatever the password', async (user) => {
    for (const password of ['function Object() { [native code] }', '', 'relay-password', '[object Object]']) {
      const s = await tlsSession(block.ip(20))
      try {
        s.write(`AUTH PLAIN ${base64(`\0${user}\0${password}`)}\r\n`)
        // a wrong login, or (after a few from this address) the lockout: never a login
        expect(await s.reply()).toMatch(/^(535 5\.7\.8|454 4\.7\.0|421 4\.7\.0) /)
      } finally {
        s.close()
      }
    }
  })

  it('refuses an authzid other than the authcid, and accepts the same login as itself', async () => {
    const s = await tlsSession(block.ip(30))
    try {
      s.write(`AUTH PLAIN ${base64('ceo@example.com\0relay\0relay-password')}\r\n`)
      expect(await s.reply()).toMatch(/^5\d\d 5\.7\.\d+ /)
      s.write(`AUTH PLAIN ${base64('relay\0relay\0relay-password')}\r\n`)
      expect(await s.reply()).toMatch(/^235 2\.7\.0 /)
    } finally {
      s.close()
    }
  })
})
