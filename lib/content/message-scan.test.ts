// Unit tests for the per-message scan, driven by Haraka's own MIME parser
// (haraka-email-message, as transaction.body uses it) on complete messages.
import { describe, expect, it } from 'vitest'

import { fakeWindowsProgram, mimeMessage, samplePdf, type Attachment } from '../../test/helpers/content-mail'
import { zip } from '../../test/helpers/zip-writer'
import { AttachmentPolicy } from './attachment-policy'
import { DEFAULT_BLOCKED_EXTENSIONS, DEFAULT_BLOCKED_MIME_TYPES } from './config'
import { MessageScan, type MessageScanOptions } from './message-scan'
import { parseMessage } from './mime'

const policy = new AttachmentPolicy({ blockedExtensions: DEFAULT_BLOCKED_EXTENSIONS, blockedMimeTypes: DEFAULT_BLOCKED_MIME_TYPES, blockExecutableContent: true })
const archives = { maxDepth: 3, maxEntries: 100, maxBytes: 1024 * 1024, maxArchiveBytes: 1024 * 1024 }

async function scan(raw: string, opts: Partial<MessageScanOptions> = {}) {
  const s = new MessageScan({ policy, archives, maxTextChars: 1000, ...opts })
  const root = parseMessage(Buffer.from(raw, 'utf8'), s.onAttachment)
  const report = await s.finish(root)
  return {
    blocked: report.blocked.map((b) => `${b.path.join(' > ')}: ${b.block.reason} ${b.block.value}`),
    issues: report.issues.map((i) => `${i.path.join(' > ')}: ${i.problem}`),
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
    expect(r).toEqual({ blocked: ['x.dat: windows_executable PE'], issues: [], texts: [expect.stringContaining('Body content-')] })
  })

  it('keeps only the first characters of each text part', async () => {
    const r = await scan(message([], { text: 'a'.repeat(5000) }), { maxTextChars: 100 })
    expect(r.texts).toEqual(['a'.repeat(100)])
  })
})
