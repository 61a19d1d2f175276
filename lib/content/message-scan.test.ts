// Unit tests for the per-message scan, driven by Haraka's own MIME parser
// (haraka-email-message, as transaction.body uses it) on complete messages.
import { describe, expect, it } from 'vitest'

import { attachmentPart, boundaryFlood, deeplyNested, fakeWindowsProgram, mimeMessage, samplePdf, type Attachment } from '../../test/helpers/content-mail'
import { zip } from '../../test/helpers/zip-writer'
import { AttachmentPolicy } from './attachment-policy'
import { DEFAULT_BLOCKED_EXTENSIONS, DEFAULT_BLOCKED_MIME_TYPES } from './config'
import { MessageScan, type MessageScanOptions } from './message-scan'
import { parseMessage } from './mime'

const policy = new AttachmentPolicy({ blockedExtensions: DEFAULT_BLOCKED_EXTENSIONS, blockedMimeTypes: DEFAULT_BLOCKED_MIME_TYPES, blockExecutableContent: true })
const archives = { maxDepth: 3, maxEntries: 100, maxBytes: 1024 * 1024, maxArchiveBytes: 1024 * 1024, maxParts: 1000 }

async function scan(raw: string, opts: Partial<MessageScanOptions> = {}) {
  const s = new MessageScan({ policy, archives, maxTextChars: 1000, checkStructure: true, ...opts })
  // the message itself as Haraka parses transaction.body: no limits of ours (Haraka has connection.ini [max] mime_parts)
  const { root } = await parseMessage(Buffer.from(raw, 'utf8'), s.onAttachment, { takePart: () => true })
  const report = await s.finish(root ?? null)
  return {
    blocked: report.blocked.map((b) => `${b.path.join(' > ')}: ${b.block.reason} ${b.block.value}`),
    issues: report.issues.map((i) => `${i.path.join(' > ')}: ${i.problem}`),
    details: report.issues.map((i) => i.detail),
    texts: report.texts,
  }
}

const message = (attachments: Attachment[], extra: { text?: string; html?: string } = {}) =>
  mimeMessage({ from: 'a@sender.test', to: 'b@example.com', attachments, ...extra }).text

describe('MessageScan', () => {
  it('passes a message with harmless attachments and keeps its text for the rules', async () => {
    const r = await scan(message([{ filename: 'report.pdf', contentType: 'application/pdf', data: samplePdf() }], { text: 'Hello there', html: '<p>Hi</p>' }))
    expect(r.blocked).toEqual([])
    expect(r.issues).toEqual([])
    expect(r.texts.map((t) => t.trim())).toEqual(['Hello there', '<p>Hi</p>'])
  })

  it('blocks by extension, in any header, in any case, with tricks', async () => {
    const r = await scan(
      message([
        { filename: 'invoice.pdf.EXE', contentType: 'application/octet-stream', data: 'x' },
        { filename: 'ok.txt', contentType: 'application/octet-stream; name="run.js"', data: 'x', disposition: 'attachment' },
        { contentType: 'application/octet-stream', data: 'x', headers: ["Content-Disposition: attachment; filename*=UTF-8''evil%2Escr"], disposition: 'none' },
        { filename: 'trailing.vbs. ', contentType: 'application/octet-stream', data: 'x' },
      ]),
    )
    expect(r.blocked).toEqual([
      'invoice.pdf.EXE: extension exe',
      'ok.txt: extension js',
      'evil.scr: extension scr',
      'trailing.vbs.: extension vbs',
    ])
  })

  it('blocks by declared MIME type, and Windows programs by content whatever their name', async () => {
    const r = await scan(
      message([
        { filename: 'setup.bin', contentType: 'application/x-msdownload', data: 'x' },
        { filename: 'invoice.pdf', contentType: 'application/pdf', data: fakeWindowsProgram() },
      ]),
    )
    // content is judged while the data streams in, names and types once the message is complete
    expect(r.blocked).toEqual(['invoice.pdf: windows_executable PE', 'setup.bin: mime_type application/x-msdownload'])
  })

  it('checks the name of a part the parser keeps as text (inline text/plain named .js)', async () => {
    const r = await scan(message([{ filename: 'readme.js', contentType: 'text/plain', data: 'alert(1)', disposition: 'inline', encoding: 'raw' }]))
    expect(r.blocked).toEqual(['readme.js: extension js'])
  })

  it('looks inside ZIP archives, nested ones, and archives with innocent names', async () => {
    const r = await scan(
      message([
        { filename: 'docs.zip', contentType: 'application/zip', data: zip([{ name: 'a/tool.exe', data: 'x' }]) },
        { filename: 'nested.zip', contentType: 'application/zip', data: zip([{ name: 'inner.zip', data: zip([{ name: 'x.lnk', data: 'x' }]) }]) },
        { filename: 'photo.jpg', contentType: 'image/jpeg', data: zip([{ name: 'run.bat', data: 'x' }]) },
        { filename: 'fine.zip', contentType: 'application/zip', data: zip([{ name: 'a.pdf', data: samplePdf() }]) },
      ]),
    )
    expect(r.blocked.sort()).toEqual(['docs.zip > a/tool.exe: extension exe', 'nested.zip > inner.zip > x.lnk: extension lnk', 'photo.jpg > run.bat: extension bat'])
    expect(r.issues).toEqual([])
  })

  it('reports archives that cannot be inspected: encrypted, corrupt, a .zip that is not one', async () => {
    const r = await scan(
      message([
        { filename: 'secret.zip', contentType: 'application/zip', data: zip([{ name: 'a.doc', data: 'x', encrypted: true }]) },
        { filename: 'broken.zip', contentType: 'application/zip', data: zip([{ name: 'a.doc', data: 'x' }]).subarray(0, 30) },
        { filename: 'fake.zip', contentType: 'application/zip', data: 'not an archive' },
      ]),
    )
    expect(r.issues).toEqual(['secret.zip: encrypted', 'broken.zip: corrupt', 'fake.zip: corrupt'])
    expect(r.blocked).toEqual([])
  })

  it('reports a ZIP the parser could only read as text (text/plain named .zip): it cannot be inspected', async () => {
    const r = await scan(message([{ filename: 'files.zip', contentType: 'text/plain', data: 'PK\x03\x04...', disposition: 'inline', encoding: 'raw' }]))
    expect(r.issues).toEqual(['files.zip: unsupported'])
  })

  it('opens attached messages, as attachment or inline, and checks their attachments', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', attachments: [{ filename: 'inner.exe', contentType: 'application/octet-stream', data: 'x' }] }).text
    const asAttachment = await scan(message([{ filename: 'fwd.eml', contentType: 'message/rfc822', data: inner, encoding: 'raw' }]))
    expect(asAttachment.blocked).toEqual(['fwd.eml > inner.exe: extension exe'])
    const inline = await scan(message([{ contentType: 'message/rfc822', data: inner, encoding: 'raw', disposition: 'none' }]))
    expect(inline.blocked).toEqual(['(unnamed message/rfc822) > inner.exe: extension exe'])
    // the attached message's text is not the message's own text
    expect(inline.texts).toHaveLength(1)
  })

  it('looks at nothing inside archives when inspection is off, but still checks names and content', async () => {
    const r = await scan(
      message([
        { filename: 'docs.zip', contentType: 'application/zip', data: zip([{ name: 'tool.exe', data: 'x' }]) },
        { filename: 'x.dat', contentType: 'application/octet-stream', data: fakeWindowsProgram() },
      ]),
      { archives: undefined },
    )
    expect(r).toEqual({ blocked: ['x.dat: windows_executable PE'], issues: [], details: [], texts: [expect.stringContaining('Body content-')] })
  })

  it('keeps only the first characters of each text part', async () => {
    const r = await scan(message([], { text: 'a'.repeat(5000) }), { maxTextChars: 100 })
    expect(r.texts).toEqual(['a'.repeat(100)])
  })
})

const exe: Attachment = { filename: 'evil.exe', contentType: 'application/octet-stream', data: fakeWindowsProgram() }
const forward = (inner: string, filename = 'fwd.eml') => message([{ filename, contentType: 'message/rfc822', data: inner, encoding: 'raw' }])
/** A message with this Content-Type and body lines (CRLF). */
const raw = (contentType: string, body: string[]) => ['Subject: x', 'MIME-Version: 1.0', `Content-Type: ${contentType}`, '', ...body, ''].join('\r\n')

describe('MessageScan: MIME structure the parser may misread', () => {
  it('reports a boundary taken from the wrong parameter: the parser never saw the .exe under the real one', async () => {
    const r = await scan(mimeMessage({ from: 'a@x.test', to: 'b@x.test', contentTypeParams: 'xboundary="fake"; ', attachments: [exe] }).text)
    expect(r.blocked).toEqual([])
    expect(r.issues).toEqual(['(message): malformed'])
    expect(r.details[0]).toMatch(/^boundary read as "fake", by RFC 2045 as "b-content-/)
  })

  it('reports nesting at the parser\'s cap (the .exe below it was never seen); nesting below the cap is inspected', async () => {
    const deep = await scan(deeplyNested(101, exe))
    expect(deep.blocked).toEqual([])
    expect(deep.issues).toEqual(['(unnamed multipart/mixed): limits'])
    expect(deep.details).toEqual(['MIME parts nested deeper than 100'])
    const fine = await scan(deeplyNested(100, exe))
    expect(fine).toMatchObject({ blocked: ['evil.exe: windows_executable PE', 'evil.exe: extension exe'], issues: [] })
  })

  it.each([
    ['a multipart without any part', raw('multipart/mixed; boundary=b', ['no delimiter here']), 'multipart without any part'],
    ['a multipart without boundary', raw('multipart/mixed', ['--b', '']), 'multipart without boundary'],
    ['a repeated boundary parameter', raw('multipart/mixed; boundary=a; boundary=b', ['--a', '', 'x', '--a--']), 'boundary parameter given more than once'],
    ['a boundary in RFC 2047 form (the parser decodes it, readers do not)', raw('multipart/mixed; boundary="=?us-ascii?q?b?="', ['--b', '', 'x', '--b--']), 'boundary read as "b", by RFC 2045 as "=?us-ascii?q?b?="'],
    ['a comment before the type (the parser reads no multipart)', raw('(x) multipart/mixed; boundary=b', ['--b', '', 'x', '--b--']), 'Content-Type read as "(x) multipart/mixed", by RFC 2045 as "multipart/mixed"'],
    ['an encoded-word type', raw('=?us-ascii?q?multipart/mixed?=; boundary=b', ['--b', '', 'x', '--b--']), 'Content-Type "=?us-ascii?q?multipart/mixed?=; boundary=b" does not follow RFC 2045'],
    ['two Content-Type headers', `Content-Type: text/plain\r\n${raw('multipart/mixed; boundary=b', ['--b', '', 'x', '--b--'])}`, 'more than one Content-Type header'],
    ['part headers not followed by a blank line', raw('multipart/mixed; boundary=b', ['--b', 'Content-Type: application/octet-stream; name="evil.exe"', 'TVqQAAMAAAAEAAAA', '--b--']), 'part header not followed by a blank line'],
  ])('reports %s', async (_what, message, detail) => {
    const r = await scan(message)
    expect(r.issues.map((i) => i.replace(/^.*: /, ''))).toEqual(['malformed'])
    expect(r.details).toEqual([detail])
  })

  it('does not report ordinary structure: nested alternative and related parts, unquoted boundaries with "="', async () => {
    const text = raw('multipart/mixed; boundary=----=_Part_0_1.2', [
      '------=_Part_0_1.2',
      'Content-Type: multipart/alternative;',
      '\tboundary="alt (not a comment)"',
      '',
      '--alt (not a comment)',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'hello',
      '--alt (not a comment)',
      'Content-Type: multipart/related; type="text/html"; boundary=rel',
      '',
      '--rel',
      'Content-Type: text/html',
      '',
      '<p>hello</p>',
      '--rel',
      ...attachmentPart({ filename: 'logo.png', contentType: 'image/png', data: 'png', disposition: 'inline' }),
      '--rel--',
      '--alt (not a comment)--',
      '------=_Part_0_1.2',
      ...attachmentPart({ filename: 'report.pdf', contentType: 'application/pdf', data: samplePdf() }),
      '------=_Part_0_1.2--',
    ])
    expect(await scan(text)).toMatchObject({ blocked: [], issues: [] })
  })

  it('opens the parts of a multipart/digest: without a Content-Type they are attached messages', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', attachments: [exe] }).text
    const r = await scan(raw('multipart/digest; boundary=d', ['--d', '', inner, '--d--']))
    expect(r).toMatchObject({ blocked: ['(unnamed message/rfc822) > evil.exe: windows_executable PE', '(unnamed message/rfc822) > evil.exe: extension exe'], issues: [] })
  })

  it('checks attached messages the same way, and leaves structure checks out when asked', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', contentTypeParams: 'xboundary="fake"; ', attachments: [exe] }).text
    expect(await scan(forward(inner))).toMatchObject({ blocked: [], issues: ['fwd.eml: malformed'] })
    expect(await scan(forward(inner), { checkStructure: false })).toMatchObject({ blocked: [], issues: [] })
  })
})

describe('MessageScan: limits on parsing attached messages', () => {
  it('stops the parse of an attached message full of boundary lines at the part budget', async () => {
    const r = await scan(forward(boundaryFlood(20_000)))
    expect(r.issues).toEqual(['fwd.eml: limits'])
    expect(r.details).toEqual(['attached message not parsed to the end: more than 1000 MIME parts in attached messages'])
  })

  it('shares the part budget over all attached messages of the message', async () => {
    const inner = (n: number) => raw('multipart/mixed; boundary=b', [...Array.from({ length: n }, () => ['--b', '', 'x']).flat(), '--b--'])
    const two = message([
      { filename: 'one.eml', contentType: 'message/rfc822', data: inner(6), encoding: 'raw' },
      { filename: 'two.eml', contentType: 'message/rfc822', data: inner(6), encoding: 'raw' },
    ])
    // each alone fits (1 + 6 parts); together they do not
    expect((await scan(two, { archives: { ...archives, maxParts: 14 } })).issues).toEqual([])
    expect((await scan(two, { archives: { ...archives, maxParts: 13 } })).issues).toEqual(['two.eml: limits'])
  })

  it('does not parse an attached message larger than the remaining byte budget, or one with a header over the limit', async () => {
    const inner = mimeMessage({ from: 'x@y.test', to: 'z@y.test', attachments: [exe] }).text
    const small = await scan(forward(inner), { archives: { ...archives, maxBytes: 100 } })
    expect(small.issues).toEqual(['fwd.eml: limits'])
    expect(small.details[0]).toMatch(/^attached message larger than the remaining budget/)
    const header = await scan(forward(`${'X-Filler: y\r\n'.repeat(2000)}\r\nhello\r\n`))
    expect(header.issues).toEqual(['fwd.eml: limits'])
  })
})
