// Unit tests for reading the stored message, on a real Haraka Transaction fed
// the way connection.js feeds it (dot-stuffed CRLF lines, then end_data): what
// is read is what will be delivered, a read stopped early leaves the stream
// free for the next plugin, and Haraka's silent cut of a long header is seen.
import type { Readable } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { droppedHeaderLines, readStoredMessage } from './stored-message'

interface Txn {
  add_data(line: Buffer): void
  end_data(cb: () => void): void
  message_stream: Parameters<typeof readStoredMessage>[0] & { emit(event: 'error', err: Error): boolean }
  header_lines: string[]
  cfg: { headers: { max_lines: number } }
}
// Haraka's own Transaction (no typings)
const { createTransaction } = require('haraka/transaction') as { createTransaction(uuid: string, cfg: unknown): Txn }

let n = 0
/** A transaction that received `text` (CRLF lines) as DATA. */
async function received(text: string, maxLines = 1000): Promise<Txn> {
  const txn = createTransaction(`stored-${process.pid}-${++n}`, { headers: { max_lines: maxLines }, main: {} })
  for (const line of text.split(/(?<=\r\n)/)) txn.add_data(Buffer.from(line.startsWith('.') ? `.${line}` : line))
  await new Promise<void>((resolve) => txn.end_data(resolve))
  return txn
}

async function all(message: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of message) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const TEXT = 'Subject: stored\r\nX-A: 1\r\n\r\n.leading dot\r\nbody\r\n'

describe('readStoredMessage', () => {
  it('reads the message as it will be delivered: dot-stuffing removed, CRLF', async () => {
    const txn = await received(TEXT)
    expect(await readStoredMessage(txn.message_stream, all)).toBe(TEXT)
  })

  it('leaves the stream free for the next reader, also after a read that stopped early', async () => {
    const txn = await received(TEXT)
    await readStoredMessage(txn.message_stream, async (message) => {
      message.destroy()
    })
    await readStoredMessage(txn.message_stream, async (message) => {
      for await (const _ of message) break
    })
    expect(await readStoredMessage(txn.message_stream, all)).toBe(TEXT)
  })

  it('hands the reader large chunks, not the one line per chunk Haraka streams', async () => {
    const text = `Subject: lines\r\n\r\n${'a line of the body\r\n'.repeat(500)}`
    const txn = await received(text)
    // flowing, as a pipe() into the MIME splitter or clamd reads it (for await would join what is buffered)
    const chunks = await readStoredMessage(txn.message_stream, async (message) => {
      const got: Buffer[] = []
      message.on('data', (c: Buffer) => got.push(c))
      await new Promise((resolve) => message.once('end', resolve))
      return got
    })
    expect(Buffer.concat(chunks).toString('utf8')).toBe(text)
    expect(chunks.length).toBe(1) // 9.5 KiB: under one 64 KiB batch
  })

  it('rejects when the stored message cannot be read', async () => {
    const txn = await received(TEXT)
    const reading = readStoredMessage(txn.message_stream, async (message) => {
      txn.message_stream.emit('error', new Error('spool file gone'))
      return all(message)
    })
    await expect(reading).rejects.toThrow('spool file gone')
  })
})

describe('droppedHeaderLines', () => {
  it('sees Haraka keep only [headers] max_lines header lines and deliver the message without the rest', async () => {
    const header = Array.from({ length: 12 }, (_, i) => `X-${i}: y\r\n`).join('')
    const txn = await received(`${header}Content-Type: application/x-msdownload\r\n\r\nMZ\r\n`, 10)
    const delivered = await readStoredMessage(txn.message_stream, all)
    expect(delivered).not.toContain('Content-Type') // what Haraka delivers
    expect(droppedHeaderLines(txn)).toMatchObject({ problem: 'limits', path: ['(message)'] })
    expect(droppedHeaderLines(await received(TEXT, 10))).toBeUndefined()
  })
})
