// Relay what was sent, and never let a malformed message hide the verdict: over
// real SMTP to a real inbound instance, what the internal server (the sink) got,
// byte for byte.
// - DATA framing: bare CR, bare LF and NUL never reach the internal server; no
//   end-of-DATA variant of the 2023 SMTP smuggling research ends DATA early or
//   smuggles a second message (refused by default, normalised when configured).
// - Header section: a malformed header line is refused (or repaired), and the
//   gateway's own headers sit at the top of the header section.
// - Envelope: only advertised ESMTP parameters with valid values; non-ASCII
//   addresses only with SMTPUTF8 and valid UTF-8.

import { describe, expect, it } from 'vitest'

import type { SmtpClient, SmtpReply } from '../../lib/smtp/client'
import { addUser, delivered, gatewayWithSink, outboundWithPartnerMx } from '../helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from '../helpers/gateway'
import type { MailSink } from '../helpers/mail-sink'
import { relaySession } from '../helpers/outbound-relay'

const { gw, sink, variants } = gatewayWithSink({
  variants: {
    lenient: {
      files: { 'inbound/config/gateway-message-syntax.ini': '[main]\nbare_line_endings=normalize\nnul=strip\nmalformed_header=repair\n' },
    },
  },
})

const SMUGGLED = 'smuggled-payload'

/** A second message hidden in the first, as the smuggling research built it. */
function smuggledSession(marker: string): string {
  return `MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nFrom: <ceo@example.com>\r\nSubject: ${SMUGGLED}\r\n\r\n${SMUGGLED} ${marker}\r\n`
}

interface RawResult {
  /** The reply to the end of the crafted message. */
  end: SmtpReply
  /** The marker of a clean message sent afterwards in the same session (delivered: the session was in step). */
  control: string | undefined
}

/**
 * One session: the crafted DATA bytes, the true end (CRLF "." CRLF), then a clean
 * message in the same session when the connection is still open.
 */
async function sendRaw(g: TestGateway, head: string, data: Buffer): Promise<RawResult> {
  const { client } = await g.connect('inbound')
  await client.ehlo('mx.sender.test')
  expect((await client.send('MAIL FROM:<alice@sender.test>')).code).toBe(250)
  expect((await client.send('RCPT TO:<bob@example.com>')).code).toBe(250)
  expect((await client.send('DATA')).code).toBe(354)
  client.write(Buffer.concat([Buffer.from(head, 'latin1'), data, Buffer.from('\r\n.\r\n')]))
  const end = await client.read()
  const control = await controlMessage(client)
  await client.quit()
  return { end, control }
}

async function controlMessage(client: SmtpClient): Promise<string | undefined> {
  if (client.closed) return undefined
  const { text, marker } = testMessage({ from: 'alice@sender.test', to: 'bob@example.com', subject: 'control' })
  const r = await sendMail(client, { from: 'alice@sender.test', to: ['bob@example.com'] }, text)
  expect(r.end?.code).toBe(250)
  return marker
}

function headOf(marker: string, subject = 'crafted'): string {
  return `From: <alice@sender.test>\r\nTo: <bob@example.com>\r\nSubject: ${subject}\r\nMessage-ID: <${marker}@test.invalid>\r\n\r\n`
}

/** No bare CR, no bare LF, no NUL anywhere in what the sink got. */
function expectCleanFraming(bytes: Buffer): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0d) expect(bytes[i + 1], `bare CR at ${i}`).toBe(0x0a)
    if (bytes[i] === 0x0a) expect(bytes[i - 1], `bare LF at ${i}`).toBe(0x0d)
    expect(bytes[i], `NUL at ${i}`).not.toBe(0)
  }
}

async function expectNothingSmuggled(s: MailSink, control: string | undefined): Promise<void> {
  // the clean message sent after the crafted one arrived: anything smuggled would have arrived before it
  expect(control).toBeDefined()
  await delivered(s, control!)
  expect(s.messages.filter((m) => m.raw.includes(`Subject: ${SMUGGLED}`) && !m.raw.includes('Subject: crafted'))).toEqual([])
}

// The end-of-DATA and line-ending variants of the 2023 SMTP smuggling research
// (SEC Consult; Postfix smtp-smuggling.html): each is followed by a whole second
// session, which a lenient server would run as commands.
const VARIANTS: [string, string][] = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR><LF>.<CR>', '\r\n.\r'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
  ['<CR><LF>.<CR><CR><LF>', '\r\n.\r\r\n'],
  ['<CR><LF>.<NUL><CR><LF>', '\r\n.\0\r\n'],
  ['a bare LF line, then .<CR><LF>', 'text\nmore\n.\r\n'],
]

describe('DATA framing (default: refuse)', () => {
  it.each(VARIANTS)('%s: 550 5.6.0, nothing delivered, nothing smuggled, the session stays in step', async (_name, terminator) => {
    const marker = `m-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
    const r = await sendRaw(gw, headOf(marker), Buffer.from(`body ${marker}${terminator}${smuggledSession(marker)}`, 'latin1'))
    expect([r.end.code, r.end.enhanced]).toEqual([550, '5.6.0'])
    await expectNothingSmuggled(sink, r.control)
    expect(sink.messages.some((m) => m.raw.includes(`body ${marker}`))).toBe(false)
  })

  it('refuses NUL in a line with 550 5.6.0', async () => {
    const marker = `m-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
    const r = await sendRaw(gw, headOf(marker), Buffer.from(`body ${marker}\r\nwith\0nul\r\n`, 'latin1'))
    expect([r.end.code, r.end.enhanced, r.end.text]).toEqual([550, '5.6.0', '5.6.0 Message contains NUL characters'])
    await delivered(sink, r.control!)
    expect(sink.messages.some((m) => m.raw.includes(`body ${marker}`))).toBe(false)
  })
})

describe('DATA framing (normalize, strip)', () => {
  it.each(VARIANTS)('%s: delivered as one message, CRLF only, the dot and the second session kept as text', async (_name, terminator) => {
    const lenient = variants.lenient
    const marker = `m-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
    const r = await sendRaw(lenient, headOf(marker), Buffer.from(`body ${marker}${terminator}${smuggledSession(marker)}`, 'latin1'))
    expect(r.end.code).toBe(250)
    const msg = await delivered(sink, `body ${marker}`)
    expectCleanFraming(msg.bytes)
    // one message: the smuggled session is content of the first, after a line holding the dot
    expect(msg.raw).toMatch(/\r\n\.\r\n(?:\r\n)?MAIL FROM:<evil@attacker\.test>\r\n/)
    expect(msg.raw).toContain(`${SMUGGLED} ${marker}`)
    await expectNothingSmuggled(sink, r.control)
  })
})

describe('header section', () => {
  const malformed: [string, string][] = [
    ['a line with no colon', 'this line has no colon'],
    ['NUL in the field name', 'X-Bad\0Name: value'],
    ['an 8-bit byte in the field name', 'X-Caf\xe9: value'],
  ]

  it.each(malformed)('%s: 550 5.6.0 Message header malformed', async (_name, line) => {
    const marker = `m-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
    const head = `From: <alice@sender.test>\r\nTo: <bob@example.com>\r\n${line}\r\nSubject: hidden ${marker}\r\n\r\n`
    const r = await sendRaw(gw, head, Buffer.from(`body ${marker}`))
    expect([r.end.code, r.end.enhanced, r.end.text]).toEqual([550, '5.6.0', '5.6.0 Message header malformed'])
    await delivered(sink, r.control!)
    expect(sink.messages.some((m) => m.raw.includes(`body ${marker}`))).toBe(false)
  })

  it('repair: the header section ends before the malformed line; the verdict headers are in it', async () => {
    const marker = `m-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
    const head = `From: <alice@sender.test>\r\nTo: <bob@example.com>\r\nSubject: visible ${marker}\r\nthis line has no colon\r\nX-After: hidden\r\n\r\n`
    const r = await sendRaw(variants.lenient, head, Buffer.from(`body ${marker}`))
    expect(r.end.code).toBe(250)
    const msg = await delivered(sink, `body ${marker}`)
    const [headers, ...body] = msg.raw.split('\r\n\r\n')
    expect(headers).toMatch(/^X-Gateway-Checks: .*message-syntax=malformed_header_repaired \(accept\)/m)
    expect(headers).toMatch(/^X-Gateway-Org: /m)
    expect(headers).not.toContain('this line has no colon')
    expect(body.join('\r\n\r\n')).toMatch(/^this line has no colon\r\nX-After: hidden\r\n/)
  })

  it("puts the gateway's own headers at the top of the header section, where every parser sees them", async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const { text, marker } = testMessage({ from: 'alice@sender.test', to: 'bob@example.com' })
    expect((await sendMail(client, { from: 'alice@sender.test', to: ['bob@example.com'] }, text)).end?.code).toBe(250)
    await client.quit()
    const msg = await delivered(sink, marker)
    const names = msg.raw.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => /^\S/.test(l)).map((l) => l.slice(0, l.indexOf(':')))
    const firstOfMessage = names.indexOf('From')
    expect(firstOfMessage).toBeGreaterThan(0)
    expect(names.slice(firstOfMessage).filter((n) => /^X-Gateway-/i.test(n))).toEqual([])
    expect(names).toContain('X-Gateway-Org')
  })
})

describe('8-bit header bytes', () => {
  it('relays 8-bit header bytes as received (Latin-1 and UTF-8 fields, folded too), beside the fields the gateway adds', async () => {
    const marker = `m-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
    const head = `From: <alice@sender.test>\r\nTo: <bob@example.com>\r\nSubject: caf\xe9 ${marker}\r\nX-Folded: \xfcber\r\n\tn\xe4chste Zeile\r\nX-Utf8: caf\xc3\xa9\r\nMessage-ID: <${marker}@test.invalid>\r\n\r\n`
    const r = await sendRaw(gw, head, Buffer.from(`body ${marker}`))
    expect(r.end.code).toBe(250)
    const msg = await delivered(sink, `body ${marker}`)
    const bytes = msg.bytes.toString('latin1')
    expect(bytes).toContain(`\r\nSubject: caf\xe9 ${marker}\r\n`)
    expect(bytes).toContain('\r\nX-Folded: \xfcber\r\n\tn\xe4chste Zeile\r\n')
    expect(bytes).toContain('\r\nX-Utf8: caf\xc3\xa9\r\n')
    expect(bytes).not.toContain('\xef\xbf\xbd') // U+FFFD nowhere
    expect(msg.raw.split('\r\n\r\n')[0]).toMatch(/^X-Gateway-Org: /m)
  })
})

describe('envelope', () => {
  async function session(g: TestGateway): Promise<SmtpClient> {
    const { client } = await g.connect('inbound')
    await client.ehlo('mx.sender.test')
    return client
  }

  it.each([
    ['MAIL FROM:<alice@sender.test> SIZE=-1'],
    ['MAIL FROM:<alice@sender.test> SIZE=abc'],
    ['MAIL FROM:<alice@sender.test> SIZE=10 SIZE=20'],
    ['MAIL FROM:<alice@sender.test> FOO=bar'],
    ['MAIL FROM:<alice@sender.test> BODY=BINARYMIME'],
    ['MAIL FROM:<alice@sender.test> SMTPUTF8=yes'],
    ['MAIL FROM:<alice@sender.test> RET=FULL'],
    ['MAIL FROM:<alice@sender.test> AUTH=<>'],
  ])('%s: 555 5.5.4', async (line) => {
    const client = await session(gw)
    const r = await client.send(line)
    expect([r.code, r.enhanced]).toEqual([555, '5.5.4'])
    // the session goes on
    expect((await client.send('MAIL FROM:<alice@sender.test>')).code).toBe(250)
    await client.quit()
  })

  it.each([['RCPT TO:<bob@example.com> NOTIFY=NEVER'], ['RCPT TO:<bob@example.com> ORCPT=rfc822;bob@example.com'], ['RCPT TO:<bob@example.com> X=1']])('%s: 555 5.5.4', async (line) => {
    const client = await session(gw)
    expect((await client.send('MAIL FROM:<alice@sender.test>')).code).toBe(250)
    const r = await client.send(line)
    expect([r.code, r.enhanced]).toEqual([555, '5.5.4'])
    await client.quit()
  })

  it('accepts the advertised parameters, and the internal server gets the envelope as sent', async () => {
    const client = await session(gw)
    expect((await client.send('MAIL FROM:<alice@sender.test> SIZE=300 BODY=8BITMIME')).code).toBe(250)
    expect((await client.send('RCPT TO:<bob@example.com>')).code).toBe(250)
    const { text, marker } = testMessage({ from: 'alice@sender.test', to: 'bob@example.com' })
    expect((await client.data(text)).end?.code).toBe(250)
    await client.quit()
    expect((await delivered(sink, marker)).from).toBe('alice@sender.test')
  })

  it('refuses a non-ASCII address without SMTPUTF8 (553 5.6.7) and invalid UTF-8 with it (553 5.1.7 / 5.1.3)', async () => {
    const client = await session(gw)
    const mail = (from: string, params = '') => Buffer.concat([Buffer.from('MAIL FROM:<'), Buffer.from(from, 'latin1'), Buffer.from(`>${params}\r\n`)])
    client.write(mail('caf\xe9@sender.test'))
    expect(await client.read()).toMatchObject({ code: 553, enhanced: '5.6.7' })
    client.write(mail('caf\xe9@sender.test', ' SMTPUTF8'))
    expect(await client.read()).toMatchObject({ code: 553, enhanced: '5.1.7' })
    client.write(mail(Buffer.from('café@sender.test').toString('latin1')))
    expect(await client.read()).toMatchObject({ code: 553, enhanced: '5.6.7' })
    expect((await client.send('MAIL FROM:<alice@sender.test>')).code).toBe(250)
    client.write(Buffer.from('RCPT TO:<b\xf6b@example.com>\r\n', 'latin1'))
    expect(await client.read()).toMatchObject({ code: 553, enhanced: '5.6.7' })
    await client.quit()
  })

  it('relays a valid UTF-8 address given with SMTPUTF8', async () => {
    const client = await session(gw)
    client.write(Buffer.from('MAIL FROM:<café@sender.test> SMTPUTF8\r\n'))
    expect((await client.read()).code).toBe(250)
    expect((await client.send('RCPT TO:<bob@example.com>')).code).toBe(250)
    const { text, marker } = testMessage({ from: 'alice@sender.test', to: 'bob@example.com' })
    expect((await client.data(text)).end?.code).toBe(250)
    await client.quit()
    expect((await delivered(sink, marker)).from).toBe('café@sender.test')
  })
})

describe('outbound: what the remote MX gets', () => {
  const USER = 'app@example.com'
  const PASSWORD = 'correct horse battery'
  const out = outboundWithPartnerMx({
    files: { 'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n' },
    prepare: ({ gw: g }) => addUser(g, USER, PASSWORD),
  })

  it('bare LF from an internal application is normalised (the shipped outbound policy), 8-bit header bytes kept, a smuggled session stays text', async () => {
    const client = await relaySession(out.gw, USER, PASSWORD)
    expect((await client.send(`MAIL FROM:<${USER}>`)).code).toBe(250)
    expect((await client.send('RCPT TO:<someone@partner.test>')).code).toBe(250)
    expect((await client.send('DATA')).code).toBe(354)
    const marker = `m-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
    const head = `From: <${USER}>\nTo: <someone@partner.test>\nSubject: caf\xe9 ${marker}\nMessage-ID: <${marker}@example.com>\n\n`
    client.write(Buffer.from(`${head}line one\nbody ${marker}\n.\n${smuggledSession(marker)}\r\n.\r\n`, 'latin1'))
    expect((await client.read()).code).toBe(250)
    await client.quit()
    const msg = await delivered(out.remoteMx, `body ${marker}`)
    expectCleanFraming(msg.bytes)
    expect(msg.bytes.toString('latin1')).toContain(`\r\nSubject: caf\xe9 ${marker}\r\n`)
    expect(msg.raw).toContain(`line one\r\nbody ${marker}\r\n.\r\nMAIL FROM:<evil@attacker.test>\r\n`)
    expect(out.remoteMx.messages.filter((m) => m.from === 'evil@attacker.test')).toEqual([])
  })
})
