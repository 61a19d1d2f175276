// Unit tests for how a released message is handed to Haraka: the X-Gateway-Released
// line, dot-stuffing, and the round trip through Haraka's own transaction and
// message stream (the module the running instance uses), byte for byte.
import { describe, expect, it } from 'vitest'

import { readMessage, type TransactionModule } from './release-service'
import { dataLines, releasedHeader } from './wire'

const { createTransaction } = require('haraka/transaction') as TransactionModule

/** Feeds `message` to a Haraka transaction as the release does and reads it back as the queue would deliver it. */
async function throughHaraka(message: Buffer): Promise<Buffer> {
  const lines = dataLines(message)
  const txn = createTransaction('TEST-UUID', { main: { spool_after: -1 }, headers: { max_lines: lines.length + 1 } })
  for (const line of lines) txn.add_data(line)
  await new Promise<void>((resolve) => txn.end_data(resolve))
  return readMessage(txn)
}

const crlf = (...lines: string[]) => Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'utf8')

describe('releasedHeader', () => {
  it('is one CRLF-terminated line of printable ASCII', () => {
    const h = releasedHeader({ check: 'recipient', result: 'unknown' }, 'admin', new Date(Date.UTC(2026, 11, 1, 8, 0, 0)))
    expect(h).toBe('X-Gateway-Released: Tue, 01 Dec 2026 08:00:00 GMT by admin (was recipient: unknown)\r\n')
    expect(releasedHeader({ check: 'spam\r\nBcc: x', result: 'ä' }, 'ro\not', new Date(0))).toMatch(/^X-Gateway-Released: [^\r\n]* by ro\?ot \(was spam\?\?Bcc: x: \?\)\r\n$/)
  })
})

describe('dataLines', () => {
  it('splits after each LF, keeps line endings, and doubles a leading dot', () => {
    const lines = dataLines(Buffer.from('a\r\n.b\r\n.\r\nlast'))
    expect(lines.map((l) => l.toString())).toEqual(['a\r\n', '..b\r\n', '..\r\n', 'last'])
    expect(dataLines(Buffer.alloc(0))).toEqual([])
  })
})

describe('round trip through Haraka transaction and message stream', () => {
  const cases: Record<string, Buffer> = {
    'plain message': crlf('From: <a@sender.test>', 'Subject: hi', '', 'Body'),
    'leading dots in header and body, a lone dot': crlf('X-Gateway-Released: now', 'Subject: .dot', '', '.leading', '..two', '.', 'end'),
    'folded headers and UTF-8': crlf('Subject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=', '\tcontinued', 'X-Raw: Grüße', '', 'Grüße ✓'),
    'an 8-bit body that is not UTF-8': Buffer.concat([crlf('Content-Type: text/plain; charset=iso-8859-1', ''), Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65, 0x0d, 0x0a])]),
    'more header lines than connection.ini allows': crlf(...Array.from({ length: 1100 }, (_, i) => `X-Line-${i}: ${i}`), '', 'body'),
    'an empty body': crlf('Subject: empty', ''),
  }
  for (const [name, message] of Object.entries(cases)) {
    it(`keeps ${name} byte for byte`, async () => {
      expect((await throughHaraka(message)).equals(message)).toBe(true)
    })
  }
})
