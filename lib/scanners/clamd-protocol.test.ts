// Unit tests for clamd's wire protocol: addresses, INSTREAM framing, answer reading and parsing.
import { describe, expect, it } from 'vitest'

import { ClamdError, END_OF_STREAM, formatClamdAddress, frames, INSTREAM, MAX_REPLY, parseClamdAddress, parsePingReply, parseScanReply, ReplyReader } from './clamd-protocol'

function failure(fn: () => unknown): ClamdError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ClamdError) return err
    throw err
  }
  throw new Error('did not throw')
}

describe('parseClamdAddress', () => {
  it('reads an absolute path as a unix socket', () => {
    expect(parseClamdAddress('/run/clamav/clamd.ctl')).toEqual({ path: '/run/clamav/clamd.ctl' })
    expect(parseClamdAddress('  /tmp/x.sock ')).toEqual({ path: '/tmp/x.sock' })
  })

  it('reads host:port, with 3310 as the default port', () => {
    expect(parseClamdAddress('127.0.0.1:3311')).toEqual({ host: '127.0.0.1', port: 3311 })
    expect(parseClamdAddress('clamd.internal')).toEqual({ host: 'clamd.internal', port: 3310 })
    expect(parseClamdAddress('[::1]:3310')).toEqual({ host: '::1', port: 3310 })
  })

  it.each(['', 'relative/clamd.sock', '127.0.0.1:99999', 'a:b:c', 'host:port'])('refuses %j with a hint', (text) => {
    expect(() => parseClamdAddress(text)).toThrow(/host:port or the absolute path/)
  })

  it('formats addresses for log lines', () => {
    expect(formatClamdAddress({ path: '/run/clamav/clamd.ctl' })).toBe('/run/clamav/clamd.ctl')
    expect(formatClamdAddress({ host: '127.0.0.1', port: 3310 })).toBe('127.0.0.1:3310')
    expect(formatClamdAddress({ host: '::1', port: 3310 })).toBe('[::1]:3310')
  })
})

describe('INSTREAM framing', () => {
  it('uses the NUL-terminated command and a zero-length terminator', () => {
    expect(INSTREAM.toString('latin1')).toBe('zINSTREAM\0')
    expect([...END_OF_STREAM]).toEqual([0, 0, 0, 0])
  })

  it('prefixes each chunk with its length, 4 bytes big-endian', () => {
    const out = frames(Buffer.from('hello'))
    expect(out).toHaveLength(2)
    expect([...out[0]!]).toEqual([0, 0, 0, 5])
    expect(out[1]!.toString()).toBe('hello')
  })

  it('splits data larger than the chunk limit, keeping every byte in order', () => {
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251))
    const out = frames(data, 65_536)
    expect(out).toHaveLength(10) // 5 chunks: 4 x 65536 + 37856
    const lengths = out.filter((_, i) => i % 2 === 0).map((b) => b.readUInt32BE(0))
    expect(lengths).toEqual([65_536, 65_536, 65_536, 65_536, 300_000 - 4 * 65_536])
    expect(Buffer.concat(out.filter((_, i) => i % 2 === 1)).equals(data)).toBe(true)
  })

  it('sends nothing for an empty chunk (a zero length would end the stream early)', () => {
    expect(frames(Buffer.alloc(0))).toEqual([])
  })

  it('writes lengths above 2^24 correctly', () => {
    const [length] = frames(Buffer.alloc(0x01020304), 0x7fffffff)
    expect([...length!]).toEqual([1, 2, 3, 4])
  })
})

describe('ReplyReader', () => {
  it('waits for the NUL that ends an answer, across chunks', () => {
    const r = new ReplyReader()
    expect(r.push(Buffer.from('stream: '))).toBeUndefined()
    expect(r.push(Buffer.from('OK\0'))).toBe('stream: OK')
  })

  it('refuses an endless answer from a broken peer', () => {
    const r = new ReplyReader()
    expect(failure(() => r.push(Buffer.alloc(MAX_REPLY + 1, 0x41))).reason).toBe('protocol')
  })
})

describe('parseScanReply', () => {
  it('reads "stream: OK" as clean', () => {
    expect(parseScanReply('stream: OK')).toEqual({ infected: false })
    expect(parseScanReply('stream: OK\0')).toEqual({ infected: false })
    expect(parseScanReply('stream: OK\n')).toEqual({ infected: false })
  })

  it('reads "stream: <name> FOUND" as infected, with the signature name', () => {
    expect(parseScanReply('stream: Win.Test.EICAR_HDB-1 FOUND')).toEqual({ infected: true, signature: 'Win.Test.EICAR_HDB-1' })
    expect(parseScanReply('stream: Heuristics.Encrypted.Zip FOUND\0')).toEqual({ infected: true, signature: 'Heuristics.Encrypted.Zip' })
  })

  it('makes a strange signature name printable and short (it goes into log lines)', () => {
    const r = parseScanReply(`stream: Bad\x1b[31mName${'x'.repeat(500)} FOUND`)
    expect(r.infected && r.signature).toMatch(/^Bad\?\[31mNamex+$/)
    expect(r.infected && r.signature.length).toBe(200)
  })

  it('treats the StreamMaxLength answer as a size-limit failure, not as clean', () => {
    expect(failure(() => parseScanReply('INSTREAM size limit exceeded. ERROR')).reason).toBe('size_limit')
  })

  it('treats any ERROR answer as a clamd failure', () => {
    const err = failure(() => parseScanReply("stream: Can't allocate memory ERROR"))
    expect(err.reason).toBe('clamd_error')
    expect(err.message).toContain('allocate memory')
  })

  it.each(['', 'OK', 'stream: ok', 'UNKNOWN COMMAND', 'stream: FOUND', 'PONG', 'stream: OK trailing'])('treats %j as a protocol failure', (answer) => {
    expect(failure(() => parseScanReply(answer)).reason).toBe('protocol')
  })
})

describe('parsePingReply', () => {
  it('accepts PONG only', () => {
    expect(() => parsePingReply('PONG')).not.toThrow()
    expect(failure(() => parsePingReply('stream: OK')).reason).toBe('protocol')
  })
})
