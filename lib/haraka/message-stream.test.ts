// keepHeaderBytes against the real haraka-message-stream: what pipe() writes for
// a header Haraka decoded as UTF-8, with and without the override.

import { PassThrough } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { harakaPackageRequire } from './internal'
import { keepHeaderBytes } from './message-stream'

type Stream = { add_line(l: Buffer): void; add_line_end(cb?: () => void): void; pipe(d: NodeJS.WritableStream, o?: Record<string, unknown>): unknown }
const MessageStream = harakaPackageRequire()('haraka-message-stream') as new (cfg: object, id: string, headers: string[]) => Stream

const RECEIVED = ['Subject: caf\xe9\r\n', '\tsuite\r\n', 'X-Ok: yes\r\n', '\r\n', 'body\r\n'].map((l) => Buffer.from(l, 'latin1'))

/** A message stream as Haraka builds one: raw lines in, the header list decoded as UTF-8. */
function received(): Stream {
  const headers = ['X-Added: by a plugin\n', Buffer.from('Subject: caf\xe9\r\n\tsuite\r\n', 'latin1').toString('utf8').replace(/\r\n/g, '\n'), 'X-Ok: yes\n']
  const s = new MessageStream({}, `id-${Math.random()}`, headers)
  for (const l of RECEIVED) s.add_line(l)
  s.add_line_end()
  return s
}

async function read(s: Stream, opts: Record<string, unknown> = {}): Promise<string> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  const ended = new Promise((r) => out.on('end', r))
  s.pipe(out, opts)
  await ended
  return Buffer.concat(chunks).toString('latin1')
}

describe('keepHeaderBytes', () => {
  it('Haraka alone writes U+FFFD', async () => {
    expect(await read(received())).toContain('Subject: caf\xef\xbf\xbd\r\n')
  })

  it('writes the field as received, keeps the others', async () => {
    const s = received()
    keepHeaderBytes({ message_stream: s } as unknown as Haraka.Transaction, { original: Buffer.from('Subject: caf\xe9\r\n\tsuite\r\n', 'latin1') })
    expect(await read(s)).toBe('X-Added: by a plugin\r\nSubject: caf\xe9\r\n\tsuite\r\nX-Ok: yes\r\n\r\nbody\r\n')
    // every reader gets it, with its own line endings
    expect(await read(s, { line_endings: '\n' })).toBe('X-Added: by a plugin\nSubject: caf\xe9\n\tsuite\nX-Ok: yes\n\nbody\n')
  })
})
