// Unit tests for parsing attached messages with Haraka's parser: the part limit
// stops the parse as it happens (not after), oversized headers are refused
// before the parser parses them, and long parses give the event loop turns.
import { describe, expect, it } from 'vitest'

import { boundaryFlood, mimeMessage, samplePdf } from '../../test/helpers/content-mail'
import { MAX_HEADER_LINES, parseMessage, type MimePart } from './mime'

/** A limit that counts what it was asked. */
function partLimit(max: number) {
  const limit = { asked: 0, takePart: () => ++limit.asked <= max }
  return limit
}

function countParts(p: MimePart): number {
  return 1 + p.children.reduce((n, c) => n + countParts(c), 0)
}

describe('parseMessage', () => {
  it('parses a whole message and reports its attachments', async () => {
    const names: string[] = []
    const raw = mimeMessage({ from: 'a@x.test', to: 'b@x.test', attachments: [{ filename: 'r.pdf', contentType: 'application/pdf', data: samplePdf() }] }).text
    const limit = partLimit(100)
    const { root, stopped } = await parseMessage(Buffer.from(raw), (_ct, filename) => names.push(filename), limit)
    expect(stopped).toBeUndefined()
    expect(names).toEqual(['r.pdf'])
    expect(root!.children).toHaveLength(2)
    expect(limit.asked).toBe(3) // the message and its two parts
  })

  it('stops at the part limit while parsing: 20,000 boundary lines cost 11 parts, not 20,000', async () => {
    const limit = partLimit(10)
    const { root, stopped } = await parseMessage(Buffer.from(boundaryFlood(20_000)), () => undefined, limit)
    expect(stopped).toBe('too many parts')
    expect(limit.asked).toBe(11)
    expect(countParts(root!)).toBeLessThanOrEqual(11)
  })

  it('refuses a message without any part left in the budget before parsing anything', async () => {
    const limit = partLimit(0)
    expect(await parseMessage(Buffer.from(boundaryFlood(5)), () => undefined, limit)).toEqual({ root: undefined, stopped: 'too many parts' })
  })

  it('refuses a header over the limit, of the message or of a part, before the parser parses it', async () => {
    const big = `${'X-Filler: y\r\n'.repeat(MAX_HEADER_LINES + 1)}\r\nbody\r\n`
    expect((await parseMessage(Buffer.from(big), () => undefined, partLimit(10))).stopped).toMatch(/^a header over 1000 lines/)

    const inPart = `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n${'X-Filler: y\r\n'.repeat(5000)}\r\nbody\r\n--b--\r\n`
    const { root, stopped } = await parseMessage(Buffer.from(inPart), () => undefined, partLimit(10))
    expect(stopped).toMatch(/^a header over/)
    // the part's header lines were never handed to the header parser
    expect(root!.children[0]!.state).toBe('headers')

    const oneLongLine = `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nX-Long: ${'y'.repeat(300 * 1024)}\r\n\r\nbody\r\n--b--\r\n`
    expect((await parseMessage(Buffer.from(oneLongLine), () => undefined, partLimit(10))).stopped).toMatch(/^a header over/)
  })

  it('gives other work turns during a long parse', async () => {
    let turns = 0
    let done = false
    const tick = () => {
      turns++
      if (!done) setImmediate(tick)
    }
    setImmediate(tick)
    const raw = `Content-Type: text/plain\r\n\r\n${`${'x'.repeat(70)}\r\n`.repeat(20_000)}` // 1.4 MB
    const { stopped } = await parseMessage(Buffer.from(raw), () => undefined, partLimit(10))
    done = true
    expect(stopped).toBeUndefined()
    expect(turns).toBeGreaterThanOrEqual(10)
  })
})
