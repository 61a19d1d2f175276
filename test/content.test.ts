// Content inspection (gateway-content) over real SMTP through the inbound
// instance: size refusals with 552 5.3.4 (at MAIL FROM SIZE= and after DATA),
// blocked attachment types (also inside ZIP archives, nested), archives that
// cannot be inspected, MIME structure Haraka's parser misreads and attached
// messages built to exhaust it, header and body rules with their actions,
// monitor mode.
// Assertions are on the replies and on what the internal server received (or
// what the quarantine holds).

import fs from 'node:fs'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { QuarantineStore } from '../lib/quarantine/store'
import { boundaryFlood, deeplyNested, fakeWindowsProgram, mailDate, mimeMessage, samplePdf, type Attachment } from './helpers/content-mail'
import { delivered, gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import type { MailSink } from './helpers/mail-sink'
import { zip } from './helpers/zip-writer'

const MAX_BYTES = 65536
const FROM = 'alice@sender.test'
const TO = 'bob@example.com'

/**
 * The inbound pipeline this test needs, in the shipped order: the security-critical
 * plugins, the header firewall, gateway-content. (Not the repository's full list:
 * the virus and spam checks need engines this test does not run.)
 */
const PLUGINS = [
  'gateway-core',
  'gateway-stats',
  'gateway-refuse-auth',
  'gateway-header-firewall',
  'gateway-accepted-domains',
  'gateway-content',
  'gateway-spool',
  'gateway-routing',
].join('\n')

const shippedConnectionIni = fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', 'connection.ini'), 'utf8')

/** The repository's connection.ini with a small [max] bytes, so over-size tests stay small. */
function connectionIni(): string {
  const changed = shippedConnectionIni.replace(/^bytes\s*=\s*\d+\s*$/m, `bytes=${MAX_BYTES}`)
  if (changed === shippedConnectionIni) throw new Error('connection.ini has no [max] bytes line to change')
  return changed
}

const RULES = `
[rule.wire-fraud]
header=Subject
pattern=wire\\s+transfer
flags=i
action=quarantine

[rule.gift-cards]
body=true
pattern=gift\\s+cards?
flags=i
action=tag
tag=possible gift card scam

[rule.watch-invoices]
header=Subject
pattern=^invoice\\b
flags=i
action=monitor
`

const contentIni = (ini: string) => ({ 'inbound/config/gateway-content.ini': ini })

const {
  sink: internal,
  gw, // attachments: defaults (reject); archives: defaults (quarantine)
  variants: { monitorGw, parserGw },
  startRefused,
} = gatewayWithSink({
  files: { 'inbound/config/plugins': `${PLUGINS}\n`, 'inbound/config/connection.ini': connectionIni(), ...contentIni(RULES) },
  variants: {
    monitorGw: { files: contentIni('[attachments]\naction=monitor\n[archives]\nunreadable_action=tempfail\n') },
    // the repository's message size limit (25 MB): room for the parser-exhaustion repros
    parserGw: { files: { 'inbound/config/connection.ini': shippedConnectionIni, ...contentIni('[archives]\nunreadable_action=reject\n') } },
  },
})

async function send(g: TestGateway, text: string) {
  const { client } = await g.connect('inbound')
  await client.ehlo('mx.sender.test')
  const r = await sendMail(client, { from: FROM, to: [TO] }, text)
  await client.quit()
  return r
}

function withAttachments(attachments: Attachment[], extra: { subject?: string; text?: string } = {}) {
  return mimeMessage({ from: FROM, to: TO, attachments, ...extra })
}

async function deliveredCopy(sink: MailSink, marker: string): Promise<string> {
  return (await delivered(sink, marker)).raw
}

/**
 * Proves `markers` were not delivered: a message sent afterwards through the same
 * gateway arrives, the queue is empty, and none of them is at the internal server.
 */
async function expectNotDelivered(g: TestGateway, sink: MailSink, ...markers: string[]): Promise<void> {
  const probe = testMessage({ from: FROM, to: TO })
  expect((await send(g, probe.text)).end?.code).toBe(250)
  await deliveredCopy(sink, probe.marker)
  await g.waitForEmptyQueue('inbound')
  expect(g.queueFiles('inbound')).toEqual([])
  for (const marker of markers) expect(sink.messages.some((m) => m.raw.includes(marker))).toBe(false)
}

function header(raw: string, name: string): string[] {
  const head = raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ')
  return head
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim())
}

function quarantined(g: TestGateway) {
  return new QuarantineStore(path.join(g.root, 'inbound', 'quarantine')).list()
}

describe('message size: 552 5.3.4 with the limit of connection.ini [max] bytes', () => {
  it('advertises the limit in EHLO', async () => {
    const { client } = await gw.connect('inbound')
    const { extensions } = await client.ehlo()
    await client.quit()
    expect(extensions).toContain(`SIZE ${MAX_BYTES}`)
  })

  it('refuses MAIL FROM with a SIZE over the limit before DATA; a SIZE within it passes and the message carries no trace', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const tooBig = await client.send(`MAIL FROM:<${FROM}> SIZE=${MAX_BYTES + 1}`)
    expect([tooBig.code, tooBig.enhanced, tooBig.text]).toEqual([552, '5.3.4', '5.3.4 Message size exceeds fixed maximum message size'])
    // the session goes on: the same sender with a fitting SIZE is accepted
    const { text, marker } = testMessage({ from: FROM, to: TO })
    expect((await client.send(`MAIL FROM:<${FROM}> SIZE=${text.length}`)).code).toBe(250)
    expect((await client.send(`RCPT TO:<${TO}>`)).code).toBe(250)
    const { end } = await client.data(text)
    await client.quit()
    expect(end!.code).toBe(250)
    const raw = await deliveredCopy(internal, marker)
    // the refused MAIL belonged to no message: its decision is not in the delivered one
    expect(header(raw, 'X-Gateway-Checks')).toEqual([])
  })

  it('refuses an over-size message after DATA with 552 5.3.4, delivers nothing, and the session goes on', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const big = testMessage({ from: FROM, to: TO, body: `${'x'.repeat(76)}\r\n`.repeat(1000) })
    expect(big.text.length).toBeGreaterThan(MAX_BYTES)
    const r = await sendMail(client, { from: FROM, to: [TO] }, big.text) // no SIZE declared: only DATA can tell
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([552, '5.3.4', '5.3.4 Message size exceeds fixed maximum message size'])
    const next = testMessage({ from: FROM, to: TO })
    expect((await sendMail(client, { from: FROM, to: [TO] }, next.text)).end!.code).toBe(250)
    await client.quit()
    await deliveredCopy(internal, next.marker)
    await expectNotDelivered(gw, internal, big.marker)
  })
})

describe('attachments: blocked types are refused with 554 5.7.1', () => {
  const blockedReply = [554, '5.7.1', '5.7.1 Message contains a blocked attachment type']

  it('refuses an .exe attachment', async () => {
    const m = withAttachments([{ filename: 'invoice.pdf.exe', contentType: 'application/octet-stream', data: fakeWindowsProgram() }])
    const r = await send(gw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(blockedReply)
    await expectNotDelivered(gw, internal, m.marker)
  })

  it('refuses a ZIP archive holding an .exe, and one holding a ZIP holding an .exe', async () => {
    const flat = withAttachments([{ filename: 'documents.zip', contentType: 'application/zip', data: zip([{ name: 'readme.txt', data: 'hi' }, { name: 'setup.exe', data: fakeWindowsProgram() }]) }])
    const inner = zip([{ name: 'payload/run.exe', data: 'x', method: 'store' }])
    const nested = withAttachments([{ filename: 'archive.zip', contentType: 'application/zip', data: zip([{ name: 'more.zip', data: inner }]) }])
    for (const m of [flat, nested]) {
      const r = await send(gw, m.text)
      expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(blockedReply)
    }
    await expectNotDelivered(gw, internal, flat.marker, nested.marker)
  })

  it('delivers a harmless PDF (and a ZIP of documents) byte for byte, unmarked', async () => {
    const pdf = samplePdf()
    const docs = zip([{ name: 'report.pdf', data: pdf }, { name: 'notes.txt', data: 'hello' }])
    const m = withAttachments([
      { filename: 'report.pdf', contentType: 'application/pdf', data: pdf },
      { filename: 'docs.zip', contentType: 'application/zip', data: docs },
    ])
    const r = await send(gw, m.text)
    expect(r.end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(attachmentBytes(raw, 'report.pdf').equals(pdf)).toBe(true)
    expect(attachmentBytes(raw, 'docs.zip').equals(docs)).toBe(true)
    expect(header(raw, 'X-Gateway-Checks')).toEqual([])
  })

  it('quarantines a message whose archive cannot be inspected (encrypted), answering 250 like any accepted message', async () => {
    const m = withAttachments([{ filename: 'secret.zip', contentType: 'application/zip', data: zip([{ name: 'contract.doc', data: 'xxxx', encrypted: true }]) }])
    const r = await send(gw, m.text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    const held = quarantined(gw).find((q) => q.messageId.includes(m.marker))
    expect(held).toMatchObject({ check: 'archive', result: 'archive_encrypted', to: [TO] })
    await expectNotDelivered(gw, internal, m.marker)
  })
})

describe('header and body rules, each with its own action', () => {
  it('quarantines on a header rule (250, held, not delivered)', async () => {
    const m = withAttachments([], { subject: 'Urgent WIRE Transfer request' })
    const r = await send(gw, m.text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    const held = quarantined(gw).find((q) => q.messageId.includes(m.marker))
    expect(held).toMatchObject({ check: 'content-rule:wire-fraud', result: 'matched', subject: 'Urgent WIRE Transfer request' })
    await expectNotDelivered(gw, internal, m.marker)
  })

  it('tags on a body rule: delivered with X-Gateway-Tag', async () => {
    const m = withAttachments([], { text: 'Please buy three Gift  Cards and send me the codes.' })
    expect((await send(gw, m.text)).end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(header(raw, 'X-Gateway-Tag')).toEqual(['content-rule:gift-cards: possible gift card scam'])
    expect(header(raw, 'X-Gateway-Checks')).toEqual(['content-rule:gift-cards=matched (tag)'])
  })

  it('monitors: delivered, the decision only in X-Gateway-Checks', async () => {
    const m = withAttachments([], { subject: 'Invoice 2026-42' })
    expect((await send(gw, m.text)).end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(header(raw, 'X-Gateway-Checks')).toEqual(['content-rule:watch-invoices=matched (monitor)'])
    expect(header(raw, 'X-Gateway-Tag')).toEqual([])
  })

  it('leaves mail that matches no rule alone', async () => {
    const m = withAttachments([], { subject: 'Lunch on Friday?', text: 'The usual place.' })
    expect((await send(gw, m.text)).end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(header(raw, 'X-Gateway-Checks')).toEqual([])
    expect(header(raw, 'X-Gateway-Tag')).toEqual([])
  })
})

describe('other actions: attachments in monitor mode, unreadable archives tempfailed', () => {
  it('delivers a blocked attachment in monitor mode, intact, with the decision in X-Gateway-Checks', async () => {
    const exe = fakeWindowsProgram()
    const m = withAttachments([{ filename: 'tool.exe', contentType: 'application/octet-stream', data: exe }])
    expect((await send(monitorGw, m.text)).end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(header(raw, 'X-Gateway-Checks')).toEqual(['attachment=blocked_extension (monitor)'])
    expect(attachmentBytes(raw, 'tool.exe').equals(exe)).toBe(true)
  })

  it('answers 451 4.7.1 for an archive that cannot be inspected when the action is tempfail', async () => {
    const m = withAttachments([{ filename: 'broken.zip', contentType: 'application/zip', data: Buffer.from('PK\x03\x04 this is no archive at all') }])
    const r = await send(monitorGw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([451, '4.7.1', '4.7.1 Message contains an attachment that cannot be inspected'])
    await expectNotDelivered(monitorGw, internal, m.marker)
  })
})

describe('MIME structure Haraka\'s parser misread, read as mail clients read it, and attached messages built to exhaust the reader', () => {
  const unreadableReply = [554, '5.7.1', '5.7.1 Message contains an attachment that cannot be inspected']
  const evilExe: Attachment = { filename: 'evil.exe', contentType: 'application/octet-stream', data: fakeWindowsProgram() }
  /** A message whose Content-Type has `xboundary="fake"` before the real boundary: Haraka's old parser split on "fake"; clients split on the real one. */
  const fakeBoundary = (attachments: Attachment[]) => mimeMessage({ from: FROM, to: TO, contentTypeParams: 'xboundary="fake"; ', attachments })

  it('refuses the .exe behind a look-alike boundary parameter (xboundary=) as a blocked attachment: mail clients show it', async () => {
    const m = fakeBoundary([evilExe])
    const r = await send(gw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([554, '5.7.1', '5.7.1 Message contains a blocked attachment type'])
    await expectNotDelivered(gw, internal, m.marker)
  })

  it('quarantines a message nested 101 multiparts deep with an .exe at the bottom (the parser stops at 100)', async () => {
    const marker = `deep-${process.pid}-${Date.now()}`
    const text = deeplyNested(101, evilExe, [`From: <${FROM}>`, `To: <${TO}>`, 'Subject: nested', `Message-ID: <${marker}@test.invalid>`, `Date: ${mailDate()}`])
    const r = await send(gw, text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    const held = quarantined(gw).find((q) => q.messageId.includes(marker))
    expect(held).toMatchObject({ check: 'archive', result: 'archive_limits' })
    await expectNotDelivered(gw, internal, marker)
  })

  it('quarantines a message whose Content-Type comes after the 1000 header lines Haraka parses', async () => {
    const m = mimeMessage({ from: FROM, to: TO, headers: Array.from({ length: 1000 }, (_, i) => `X-Filler-${i}: x`), attachments: [evilExe] })
    const r = await send(gw, m.text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    const held = quarantined(gw).find((q) => q.messageId.includes(m.marker))
    expect(held).toMatchObject({ check: 'archive', result: 'archive_limits' })
    await expectNotDelivered(gw, internal, m.marker)
  })

  it('delivers an attached message with the look-alike boundary trick in monitor mode, the .exe inside it recorded', async () => {
    const inner = fakeBoundary([evilExe]).text
    const m = withAttachments([{ filename: 'fwd.eml', contentType: 'message/rfc822', data: inner, encoding: 'raw' }])
    expect((await send(monitorGw, m.text)).end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(header(raw, 'X-Gateway-Checks')).toEqual(['attachment=blocked_extension (monitor)'])
  })

  it('delivers a forwarded message of ordinary structure unmarked, byte for byte', async () => {
    const inner = mimeMessage({ from: 'carol@elsewhere.test', to: FROM, html: '<p>hi</p>', attachments: [{ filename: 'report.pdf', contentType: 'application/pdf', data: samplePdf() }] }).text
    const m = withAttachments([{ filename: 'fwd.eml', contentType: 'message/rfc822', data: inner, encoding: 'raw' }])
    expect((await send(gw, m.text)).end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(raw).toContain(inner.split('\r\n\r\n')[1]!.slice(0, 200))
    expect(header(raw, 'X-Gateway-Checks')).toEqual([])
  })

  it('refuses an attached message of 20,000 boundary lines (parsing stops at max_parts), stays up and delivers the next message', async () => {
    // the reported repro: one message/rfc822 part holding a multipart whose body is nothing but "--b" lines
    const m = withAttachments([{ contentType: 'message/rfc822', data: boundaryFlood(20_000), encoding: 'raw', disposition: 'none' }])
    const r = await send(parserGw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(unreadableReply)
    await parserGw.waitForLog('inbound', /decision check=archive result=archive_limits action=reject detail="[^"\n]*more than 1000 MIME parts in attached messages/)
    expect(parserGw.isRunning('inbound')).toBe(true)
    await expectNotDelivered(parserGw, internal, m.marker)
  })

  it('refuses the 1 MB variant (200,000 boundary lines, as an attachment) the same way', async () => {
    const m = withAttachments([{ filename: 'fwd.eml', contentType: 'message/rfc822', data: boundaryFlood(200_000), encoding: 'raw' }])
    expect(m.text.length).toBeGreaterThan(1_000_000)
    const r = await send(parserGw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(unreadableReply)
    expect(parserGw.isRunning('inbound')).toBe(true)
    await expectNotDelivered(parserGw, internal, m.marker)
  })
})

describe('configuration', () => {
  it('refuses to load in the outbound instance', async () => {
    const plugins = fs.readFileSync(path.join(GATEWAY_ROOT, 'outbound', 'config', 'plugins'), 'utf8')
    const { code, stderr } = await startRefused('outbound', { files: { 'outbound/config/plugins': `${plugins}\ngateway-content\n` } })
    expect(code).toBe(78)
    expect(stderr).toMatch(/configuration error: \S*outbound\/config\/plugins:\d+: gateway-content: runs in the inbound instance only: remove it from the outbound instance/)
  })

  it('refuses to start on an invalid regular expression, naming file, line, section and key', async () => {
    const { code, stderr } = await startRefused('inbound', { files: contentIni('[rule.broken]\nheader=Subject\npattern=(unclosed\naction=reject\n') })
    expect(code).toBe(78)
    expect(stderr).toMatch(/gateway: configuration error: \S*inbound\/config\/gateway-content\.ini:3: \[rule\.broken\] pattern: invalid regular expression/)
  })
})

/** Decodes the base64 part named `filename` from a raw delivered message. */
function attachmentBytes(raw: string, filename: string): Buffer {
  const at = raw.indexOf(`filename="${filename}"`)
  if (at < 0) throw new Error(`no part named ${filename}`)
  const bodyStart = raw.indexOf('\r\n\r\n', at) + 4
  const bodyEnd = raw.indexOf('\r\n--', bodyStart)
  return Buffer.from(raw.slice(bodyStart, bodyEnd).replace(/\s+/g, ''), 'base64')
}

// The cases that made the gateway police Haraka's body parser, now that the
// stored message is read as mail clients read it (lib/content/mime-reader.ts):
// each gets the finding the client's view of the message gives.
describe('MIME read as mail clients read it, within explicit limits', () => {
  const blockedReply = [554, '5.7.1', '5.7.1 Message contains a blocked attachment type']
  const unreadableReply = [554, '5.7.1', '5.7.1 Message contains an attachment that cannot be inspected']
  const evilExe: Attachment = { filename: 'evil.exe', contentType: 'application/octet-stream', data: fakeWindowsProgram() }
  let n = 0
  /** A message with these header lines for its Content-Type (folded as given) and this body. */
  const rawMessage = (contentType: string[], body: string[]) => {
    const marker = `client-view-${process.pid}-${Date.now()}-${++n}`
    const head = [`From: <${FROM}>`, `To: <${TO}>`, 'Subject: client view', `Message-ID: <${marker}@test.invalid>`, `Date: ${mailDate()}`, 'MIME-Version: 1.0']
    return { marker, text: [...head, ...contentType, '', ...body, ''].join('\r\n') }
  }
  /** The lines of an attachment part (as mimeMessage writes one). */
  const partOf = (a: Attachment) => {
    const b64 = (Buffer.isBuffer(a.data) ? a.data : Buffer.from(a.data)).toString('base64').match(/.{1,76}/g) ?? []
    return [`Content-Type: ${a.contentType}; name="${a.filename}"`, `Content-Disposition: attachment; filename="${a.filename}"`, 'Content-Transfer-Encoding: base64', '', ...b64]
  }

  it('takes the boundary from the boundary parameter only: an .exe behind xboundary= or a quoted "a;boundary=" is a blocked attachment', async () => {
    const m = mimeMessage({ from: FROM, to: TO, contentTypeParams: 'xboundary="fake"; ', attachments: [evilExe] })
    const quoted = rawMessage(['Content-Type: multipart/mixed; name="a;boundary=fake"; boundary=real'], ['--fake', '', 'decoy', '--real', ...partOf(evilExe), '--real--'])
    for (const text of [m.text, quoted.text]) {
      const r = await send(parserGw, text)
      expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(blockedReply)
    }
    await expectNotDelivered(parserGw, internal, m.marker, quoted.marker)
  })

  it('reads a Content-Type folded across lines or carrying a comment', async () => {
    const folded = rawMessage(['Content-Type:', ' multipart/mixed;', '\tboundary=', '  "real"'], ['--real', ...partOf(evilExe), '--real--'])
    const commented = rawMessage(['Content-Type: multipart/mixed (boundary="fake"); boundary="real"'], ['--fake', '', 'decoy', '--real', ...partOf(evilExe), '--real--'])
    for (const m of [folded, commented]) {
      const r = await send(gw, m.text)
      expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(blockedReply)
    }
    await expectNotDelivered(gw, internal, folded.marker, commented.marker)
  })

  it('decodes RFC 2231 and RFC 2047 file names: filename*=UTF-8\'\'evil%2Eexe and =?UTF-8?B?...?= are refused by name', async () => {
    const harmless = Buffer.from('not a program') // the name alone must block
    const rfc2231 = withAttachments([{ contentType: 'application/octet-stream', data: harmless, disposition: 'none', headers: ["Content-Disposition: attachment; filename*=UTF-8''evil%2Eexe"] }])
    const encodedWord = withAttachments([{ contentType: 'application/octet-stream', data: harmless, disposition: 'none', headers: ['Content-Disposition: attachment; filename="=?UTF-8?B?aW52b2ljZS5wZGYuanM=?="'] }])
    for (const m of [rfc2231, encodedWord]) {
      const r = await send(gw, m.text)
      expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(blockedReply)
    }
    await gw.waitForLog('inbound', /decision check=attachment result=blocked_extension action=reject detail="evil\.exe: extension exe"/)
    await gw.waitForLog('inbound', /decision check=attachment result=blocked_extension action=reject detail="invoice\.pdf\.js: extension js"/)
    await expectNotDelivered(gw, internal, rfc2231.marker, encodedWord.marker)
  })

  it('sees an .exe after a part larger than 128 KiB', async () => {
    const big: Attachment = { filename: 'scan.pdf', contentType: 'application/pdf', data: Buffer.alloc(300 * 1024, 0x25) }
    const m = withAttachments([big, evilExe])
    const r = await send(parserGw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(blockedReply)
    await expectNotDelivered(parserGw, internal, m.marker)
  })

  it('refuses a part header of more than 1000 lines ([mime] max_header_lines) as not inspectable', async () => {
    const filler = Array.from({ length: 1001 }, (_, i) => `X-Filler-${i}: x`)
    const m = rawMessage(['Content-Type: multipart/mixed; boundary=b'], ['--b', ...filler, 'Content-Type: text/plain', '', 'hello', '--b', ...partOf(evilExe), '--b--'])
    const r = await send(parserGw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(unreadableReply)
    await parserGw.waitForLog('inbound', /decision check=archive result=archive_limits action=reject detail="\(message\): limits \(message not read to the end: a MIME header of 1002 lines \(more than 1000\)\)"/)
    await expectNotDelivered(parserGw, internal, m.marker)
  })

  it('quarantines a message nested deeper than [mime] max_depth (50); one nested 50 deep is inspected to the bottom', async () => {
    const headers = (marker: string) => [`From: <${FROM}>`, `To: <${TO}>`, 'Subject: nested', `Message-ID: <${marker}@test.invalid>`, `Date: ${mailDate()}`]
    const tooDeep = `deep51-${process.pid}-${Date.now()}`
    const r = await send(gw, deeplyNested(51, evilExe, headers(tooDeep)))
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    expect(quarantined(gw).find((q) => q.messageId.includes(tooDeep))).toMatchObject({ check: 'archive', result: 'archive_limits' })
    const deep = `deep50-${process.pid}-${Date.now()}`
    const inspected = await send(gw, deeplyNested(50, evilExe, headers(deep)))
    expect([inspected.end!.code, inspected.end!.enhanced, inspected.end!.text]).toEqual(blockedReply)
    await expectNotDelivered(gw, internal, tooDeep, deep)
  })

  it('refuses a message of 20,000 boundary lines of its own ([mime] max_parts), stays up and delivers the next message', async () => {
    const m = rawMessage(['Content-Type: multipart/mixed; boundary=b'], '--b\r\n'.repeat(20_000).split('\r\n'))
    const r = await send(parserGw, m.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual(unreadableReply)
    await parserGw.waitForLog('inbound', /decision check=archive result=archive_limits action=reject detail="\(message\): limits \(message not read to the end: more than 1000 MIME parts\)"/)
    expect(parserGw.isRunning('inbound')).toBe(true)
    await expectNotDelivered(parserGw, internal, m.marker)
  })

  it('gives the body rules the decoded text of quoted-printable parts', async () => {
    const m = rawMessage(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'], ['Please buy three Gift=20=', 'Cards today.'])
    expect((await send(gw, m.text)).end!.code).toBe(250)
    const raw = await deliveredCopy(internal, m.marker)
    expect(header(raw, 'X-Gateway-Checks')).toEqual(['content-rule:gift-cards=matched (tag)'])
  })
})
