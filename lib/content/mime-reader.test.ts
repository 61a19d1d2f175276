// Unit tests for the MIME reader: parts in message order with their depth and
// decoded content, the limits it adds to mailsplit's (depth, header lines) and
// the ones it names (parts, header bytes), and what happens to the input and to
// the content of parts nobody wants.
import { PassThrough, Readable } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { attachmentPart, boundaryFlood, deeplyNested, mimeMessage } from '../../test/helpers/content-mail'
import { readMime, type MimeLimits, type MimePart, type PartSink } from './mime-reader'

const limits: MimeLimits = { maxHeaderBytes: 64 * 1024, maxHeaderLines: 100, maxParts: 100, maxDepth: 10 }

/** Reads `raw`, keeping every part and all of each leaf's decoded content. */
async function read(raw: string | Buffer, l: Partial<MimeLimits> = {}) {
  const parts: (MimePart & { content?: string })[] = []
  const result = await readMime(Readable.from([Buffer.from(raw)]), { ...limits, ...l }, (part) => {
    const entry: MimePart & { content?: string } = { ...part }
    parts.push(entry)
    const chunks: Buffer[] = []
    return {
      write: (c) => chunks.push(c) > 0,
      end: async () => {
        entry.content = Buffer.concat(chunks).toString('latin1')
      },
    }
  })
  return { ...result, seen: parts }
}

describe('readMime', () => {
  it('hands over every part in order with depth, type, names, and the leaves decoded', async () => {
    const raw = mimeMessage({
      from: 'a@x.test',
      to: 'b@x.test',
      text: 'hello',
      attachments: [{ filename: 'r.pdf', contentType: 'application/pdf', data: '%PDF-1.4 data' }],
    }).text
    const r = await read(raw)
    expect(r.stopped).toBeUndefined()
    expect(r.seen.map((p) => [p.depth, p.type, p.multipart, p.disposition, p.names, p.content])).toEqual([
      [0, 'multipart/mixed', true, '', [], undefined],
      [1, 'text/plain', false, '', [], 'hello'],
      [1, 'application/pdf', false, 'attachment', ['r.pdf'], '%PDF-1.4 data'],
    ])
    expect(r.seen[1]!.charset).toBe('utf-8')
    expect(r.parts).toBe(3)
  })

  it('assumes text/plain without a Content-Type, message/rfc822 inside a digest', async () => {
    expect((await read('Subject: x\r\n\r\nplain')).seen.map((p) => p.type)).toEqual(['text/plain'])
    const digest = (await read('Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: inner\r\n\r\nhi\r\n--d--\r\n')).seen
    expect(digest.map((p) => p.type)).toEqual(['multipart/digest', 'message/rfc822'])
    expect(digest[1]!.content).toBe('Subject: inner\r\n\r\nhi')
  })

  it('stops decoding a part once its sink wants no more', async () => {
    const seen: number[] = []
    const big = mimeMessage({ from: 'a@x.test', to: 'b@x.test', attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', data: Buffer.alloc(1024 * 1024, 1) }] }).text
    let ended = 0
    const r = await readMime(Readable.from([Buffer.from(big)]), limits, (part): PartSink | undefined =>
      part.type === 'application/octet-stream'
        ? {
            write: (c) => {
              seen.push(c.length)
              return false
            },
            end: async () => void ended++,
          }
        : undefined,
    )
    expect(r.stopped).toBeUndefined()
    expect(seen).toHaveLength(1) // one decoded chunk, then nothing more
    expect(ended).toBe(1)
  })

  it('stops at each limit and says which; the input is destroyed', async () => {
    const input = Readable.from([Buffer.from(`Subject: flood\r\n${boundaryFlood(5000)}`)])
    const flood = await readMime(input, limits, () => undefined)
    expect(flood.stopped).toEqual({ limit: 'parts', detail: 'more than 100 MIME parts' })
    expect(input.destroyed).toBe(true)

    const bottom = { filename: 'x.txt', contentType: 'text/plain', data: 'x' }
    expect((await read(deeplyNested(11, bottom))).stopped).toEqual({ limit: 'depth', detail: 'MIME parts nested deeper than 10' })
    expect((await read(deeplyNested(10, bottom))).stopped).toBeUndefined()

    const manyLines = `${Array.from({ length: 101 }, (_, i) => `X-${i}: y`).join('\r\n')}\r\n\r\nbody`
    expect((await read(manyLines)).stopped).toEqual({ limit: 'header', detail: 'a MIME header of 101 lines (more than 100)' })
    // folded continuation lines count as lines
    const folded = `X-Folded: a${'\r\n b'.repeat(100)}\r\n\r\nbody`
    expect((await read(folded)).stopped?.limit).toBe('header')

    const bigHeader = `X-Big: ${'y'.repeat(70 * 1024)}\r\n\r\nbody`
    expect((await read(bigHeader)).stopped).toEqual({ limit: 'header', detail: 'a MIME header over 65536 bytes' })
  })

  it('does not end the sink of a part whose end the read did not reach (its findings would be guesses)', async () => {
    const raw = ['Content-Type: multipart/mixed; boundary=b', '', '--b', ...attachmentPart({ filename: 'a.pdf', contentType: 'application/pdf', data: 'x' }), ...'--b\r\n'.repeat(200).split('\r\n')].join('\r\n')
    const r = await read(raw)
    expect(r.stopped?.limit).toBe('parts')
    // the delimiters after it open parts without headers: the limit is reached before a next part is complete
    expect(r.seen.find((p) => p.names.includes('a.pdf'))).not.toHaveProperty('content')
  })

  it('rejects with the error of its input, or of a sink', async () => {
    const input = new PassThrough()
    const reading = readMime(input, limits, () => undefined)
    input.write('Subject: x\r\n\r\nbody')
    input.destroy(new Error('spool read failed'))
    await expect(reading).rejects.toThrow('spool read failed')

    const failing = readMime(Readable.from([Buffer.from('Subject: x\r\n\r\nbody')]), limits, () => ({
      write: () => true,
      end: () => Promise.reject(new Error('sink failed')),
    }))
    await expect(failing).rejects.toThrow('sink failed')
  })
})
