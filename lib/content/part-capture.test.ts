// Unit tests for what is kept of a part's content: the first bytes always, the
// whole only when its first bytes (or the caller) ask for it, within a limit,
// and the signal to stop decoding as soon as nothing more is needed.
import { describe, expect, it } from 'vitest'

import { zip } from '../../test/helpers/zip-writer'
import { PartCapture, type Captured, type CaptureOptions } from './part-capture'
import { SNIFF_BYTES } from './sniff'

/** Writes `data` in `chunk`-byte pieces until the capture says stop; returns what it captured and how much it took. */
async function capture(data: Buffer, opts: Partial<CaptureOptions> = {}, chunk = 1000) {
  let captured: Captured | undefined
  const c = new PartCapture({ startBytes: 0, wholeIf: () => false, maxWholeBytes: 1 << 20, ...opts }, async (got) => void (captured = got))
  let taken = 0
  for (let at = 0; at < data.length; at += chunk) {
    taken += Math.min(chunk, data.length - at)
    if (!c.write(data.subarray(at, at + chunk))) break
  }
  await c.end()
  return { ...captured!, taken }
}

describe('PartCapture', () => {
  it('keeps the first bytes of a part nobody looks into, and asks for no more', async () => {
    const r = await capture(Buffer.alloc(100_000, 1))
    expect(r).toMatchObject({ content: 'other', whole: false, tooLarge: false })
    expect(r.data.length).toBe(SNIFF_BYTES)
    expect(r.taken).toBeLessThan(SNIFF_BYTES + 1000)
  })

  it('keeps a whole small part', async () => {
    const r = await capture(Buffer.from('tiny'))
    expect(r).toMatchObject({ whole: true, tooLarge: false })
    expect(r.data.toString()).toBe('tiny')
  })

  it('keeps the start a text part needs for the rules', async () => {
    const r = await capture(Buffer.alloc(100_000, 0x61), { startBytes: 10_000 })
    expect(r.data.length).toBe(10_000)
  })

  it('keeps a whole archive once its first bytes show one, up to the limit', async () => {
    const archive = zip([{ name: 'a.bin', data: Buffer.alloc(50_000, 7), method: 'store' }])
    const wanted = await capture(archive, { wholeIf: (content) => content === 'zip' })
    expect(wanted).toMatchObject({ content: 'zip', whole: true, tooLarge: false })
    expect(wanted.data.equals(archive)).toBe(true)

    const tooLarge = await capture(archive, { wholeIf: (content) => content === 'zip', maxWholeBytes: 20_000 })
    expect(tooLarge).toMatchObject({ content: 'zip', whole: false, tooLarge: true })
    expect(tooLarge.taken).toBeLessThan(22_000) // stopped right after the limit
  })
})
