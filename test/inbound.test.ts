// The inbound (Internet-facing) instance, over real SMTP: accepted domains only,
// never AUTH, STARTTLS offered, durable hand-off to the internal servers.

import { describe, expect, it } from 'vitest'

import { base64 } from '../lib/smtp/client'
import { gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage } from './helpers/gateway'

const { sink: internal, gw } = gatewayWithSink()

describe('inbound: accepted domains', () => {
  it('accepts mail for an accepted domain and delivers the exact message to the internal server', async () => {
    const { client, greeting } = await gw.connect('inbound')
    expect(greeting.code).toBe(220)
    await client.ehlo('mx.sender.test')
    const { text, marker } = testMessage({ from: 'alice@sender.test', to: 'bob@example.com' })
    const r = await sendMail(client, { from: 'alice@sender.test', to: ['bob@example.com'] }, text)
    await client.quit()
    expect(r.mail.code).toBe(250)
    expect(r.rcpts[0]!.code).toBe(250)
    expect(r.end!.code).toBe(250)
    expect(r.end!.enhanced).toBe('2.0.0')

    const [msg] = (await internal.waitFor(1)).filter((m) => m.raw.includes(marker))
    expect(msg!.from).toBe('alice@sender.test')
    expect(msg!.to).toEqual(['bob@example.com'])
    // the original message arrives intact, below one Received header added by the gateway
    expect(msg!.raw).toContain(text.split('\r\n\r\n')[0]!.split('\r\n').join('\r\n'))
    expect(msg!.raw).toContain(`Body ${marker}`)
    const received = msg!.raw.match(/^Received: [^]*?(?=^\S)/m)![0]
    expect(received).toContain('from mx.sender.test')
    expect(received).toContain('envelope-from <alice@sender.test>')
    expect(received).not.toMatch(/Haraka\/\d/) // no software version
  })

  it('refuses relaying to any other domain with 550 5.7.1 before DATA', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    expect((await client.send('MAIL FROM:<spammer@sender.test>')).code).toBe(250)
    const r = await client.send('RCPT TO:<victim@elsewhere.test>')
    expect(r.code).toBe(550)
    expect(r.enhanced).toBe('5.7.1')
    expect(r.text).toBe('5.7.1 Relaying denied')
    // a subdomain of an accepted domain is a different domain
    const sub = await client.send('RCPT TO:<x@sub.example.com>')
    expect([sub.code, sub.enhanced]).toEqual([550, '5.7.1'])
    await client.quit()
  })

  it('treats the domain case-insensitively', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    await client.send('MAIL FROM:<a@sender.test>')
    expect((await client.send('RCPT TO:<Bob@EXAMPLE.com>')).code).toBe(250)
    await client.quit()
  })

  it('is immune to prototype names as domains', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    await client.send('MAIL FROM:<a@sender.test>')
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'isPrototypeOf']) {
      const r = await client.send(`RCPT TO:<victim@${name}>`)
      expect([name, r.code, r.enhanced]).toEqual([name, 550, '5.7.1'])
    }
    // "__proto__" is not even a valid domain: Haraka's parser refuses it first
    const proto = await client.send('RCPT TO:<victim@__proto__>')
    expect(proto.code).toBe(501)
    await client.quit()
  })
})

describe('inbound: no authentication, ever', () => {
  it('never advertises AUTH, neither in clear nor after STARTTLS, and offers STARTTLS', async () => {
    const { client } = await gw.connect('inbound')
    const clear = await client.ehlo()
    expect(clear.extensions).toContain('STARTTLS')
    expect(clear.extensions.some((e) => e.startsWith('AUTH'))).toBe(false)
    const tls = await client.startTls()
    expect(tls.code).toBe(220)
    expect(client.isSecure).toBe(true)
    const secure = await client.ehlo()
    expect(secure.reply.code).toBe(250)
    expect(secure.extensions.some((e) => e.startsWith('AUTH'))).toBe(false)
    // AUTH is refused even inside TLS
    const auth = await client.send(`AUTH PLAIN ${base64('\0admin\0admin')}`)
    expect([auth.code, auth.enhanced]).toEqual([503, '5.5.1'])
    await client.quit()
  })

  it('refuses AUTH in clear text with 503 5.5.1', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    for (const cmd of ['AUTH PLAIN', 'AUTH LOGIN', `AUTH PLAIN ${base64('\0constructor\0function Object() { [native code] }')}`]) {
      const r = await client.send(cmd)
      expect([cmd, r.code, r.enhanced]).toEqual([cmd, 503, '5.5.1'])
    }
    // and AUTH did not make anything possible
    await client.send('MAIL FROM:<a@sender.test>')
    expect((await client.send('RCPT TO:<x@elsewhere.test>')).code).toBe(550)
    await client.quit()
  })
})

describe('inbound: delivery to the internal server is durable', () => {
  it('accepts while the internal server is down, keeps the message on disk, delivers it exactly once when it is back', async () => {
    await internal.stop()
    const before = internal.messages.length
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const { text, marker } = testMessage({ from: 'carol@sender.test', to: 'dave@example.com' })
    const r = await sendMail(client, { from: 'carol@sender.test', to: ['dave@example.com'] }, text)
    await client.quit()
    expect(r.end!.code).toBe(250)

    // the delivery attempt fails (connection refused) and the message stays queued on disk
    await gw.waitForLog('inbound', /Temp failing|temp_fail|Tried all MXs/)
    expect(gw.queueFiles('inbound').length).toBeGreaterThan(0)

    await internal.start()
    gw.flushQueue('inbound') // SIGHUP: retry now instead of in 5 s
    const arrived = (await internal.waitFor(before + 1)).filter((m) => m.raw.includes(marker))
    expect(arrived).toHaveLength(1)
    expect(arrived[0]!.to).toEqual(['dave@example.com'])
    // delivered once: wait for the queue to drain, then make sure no second copy arrives
    await gw.waitForEmptyQueue('inbound')
    expect(gw.queueFiles('inbound')).toEqual([])
    await new Promise((r) => setTimeout(r, 500))
    expect(internal.messages.filter((m) => m.raw.includes(marker))).toHaveLength(1)
  })
})
