// Unit tests of the batched log writer against a stand-in of Haraka's logger module:
// lines wait for each other (one write), a full buffer goes at once, a terminal and
// lines a log plugin took are left alone, timestamps as log.ini asks.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { HarakaIncompatibleError } from './internal'
import { batchLogWrites } from './log-writer'

const CONT = 900
const OK = 906

function standIn(opts: { tty?: boolean; timestamps?: boolean } = {}) {
  const writes: string[] = []
  const logger = {
    timestamps: opts.timestamps ?? false,
    log_respond: (_r: number, _m: unknown, data: { data: string }) => (writes.push(`haraka:${data.data}\n`), true),
  }
  const out = { isTTY: opts.tty ?? false, write: (t: string) => writes.push(t) }
  return { logger, out, writes, load: (p: string) => (p === './logger' ? logger : undefined) }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('batchLogWrites', () => {
  it('writes lines logged together in one write, at most 50 ms later', () => {
    const s = standIn()
    batchLogWrites(s.load, s.out)
    expect(s.logger.log_respond(CONT, '', { data: '[NOTICE] one', level: 'NOTICE' } as never)).toBe(true)
    s.logger.log_respond(CONT, '', { data: '[NOTICE] two', level: 'NOTICE' } as never)
    expect(s.writes).toEqual([])
    vi.advanceTimersByTime(50)
    expect(s.writes).toEqual(['[NOTICE] one\n[NOTICE] two\n'])
  })

  it('writes at once when 32 KiB wait', () => {
    const s = standIn()
    batchLogWrites(s.load, s.out)
    const line = 'x'.repeat(1023)
    for (let i = 0; i < 32; i++) s.logger.log_respond(CONT, '', { data: line, level: 'INFO' } as never)
    expect(s.writes).toHaveLength(1)
    expect(s.writes[0]).toHaveLength(32 * 1024)
  })

  it('writes nothing for a line a log plugin took, and keeps timestamps when log.ini asks', () => {
    const s = standIn({ timestamps: true })
    const batch = batchLogWrites(s.load, s.out)!
    expect(s.logger.log_respond(OK, '', { data: 'taken', level: 'INFO' } as never)).toBe(false)
    s.logger.log_respond(CONT, '', { data: 'kept', level: 'INFO' } as never)
    batch.flush()
    expect(s.writes).toHaveLength(1)
    expect(s.writes[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z kept\n$/)
  })

  it('leaves a terminal to Haraka (colours, at once), and installs once', () => {
    const tty = standIn({ tty: true })
    expect(batchLogWrites(tty.load, tty.out)).toBeUndefined()
    tty.logger.log_respond(CONT, '', { data: 'now', level: 'INFO' } as never)
    expect(tty.writes).toEqual(['haraka:now\n'])
    const s = standIn()
    expect(batchLogWrites(s.load, s.out)).toBe(batchLogWrites(s.load, s.out))
  })

  it('stops startup when Haraka has no log_respond', () => {
    expect(() => batchLogWrites((p) => (p === './logger' ? {} : undefined), { write() {} })).toThrow(HarakaIncompatibleError)
  })
})
