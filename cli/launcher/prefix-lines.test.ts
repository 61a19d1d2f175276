import { PassThrough } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { copyPrefixed, PrefixedCopy } from './prefix-lines'

describe('PrefixedCopy', () => {
  it('prefixes every line once, also lines cut between chunks', () => {
    const p = new PrefixedCopy('[inbound] ')
    const out = ['one\ntw', 'o\nthree', '', '\nfour\n'].map((c) => p.apply(c)).join('')
    expect(out).toBe('[inbound] one\n[inbound] two\n[inbound] three\n[inbound] four\n')
  })

  it('counts Listening lines, also a marker cut in two, never twice', () => {
    const p = new PrefixedCopy('[x] ')
    p.apply('[NOTICE] [-] [server] Liste')
    p.apply('ning on 127.0.0.1:25\n[NOTICE] [-] [server] Listening on 127.0.0.2:25\n')
    p.apply('n')
    p.apply('othing\n')
    expect(p.listening).toBe(2)
  })
})

describe('copyPrefixed', () => {
  it('writes one prefixed text per chunk and joins a split UTF-8 character', async () => {
    const stream = new PassThrough()
    const written: string[] = []
    let listening = 0
    copyPrefixed(stream, '[outbound] ', (t) => written.push(t), () => listening++)
    const euro = Buffer.from('€\n[server] Listening on a\n')
    stream.write(euro.subarray(0, 1))
    stream.write(euro.subarray(1))
    stream.end()
    await new Promise((r) => stream.on('end', r))
    expect(written.join('')).toBe('[outbound] €\n[outbound] [server] Listening on a\n')
    expect(listening).toBe(1)
  })
})
