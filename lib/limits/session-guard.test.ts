// Unit tests for the session guard's deadlines with vitest's fake timers (no real
// waiting): the command deadline runs only while the server waits for a command,
// the data rate is judged per window inside DATA (not while Haraka is busy), the
// session deadline never cuts a reply in the middle, monitor reports once and acts not.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { Phase } from '../haraka/session-watch'
import { SessionGuard, type SessionLimitResult, type SessionLimits } from './session-guard'

const LIMITS: SessionLimits = { maxErrors: 2, junkCommands: 10, commandTimeout: 5, sessionTimeout: 60, dataMinRate: 100, dataRateWindow: 2 }

function guard(limits: Partial<SessionLimits> = {}, acts = true) {
  let phase: Phase = 'busy'
  const seen: SessionLimitResult[] = []
  const g = new SessionGuard({ ...LIMITS, ...limits }, { phase: () => phase, exceeded: (r) => (seen.push(r), acts) })
  return {
    g,
    seen,
    set: (p: Phase) => (phase = p),
    /** The server answers and the session goes on in phase `p`. */
    reply: (p: Phase, code = 250) => {
      const replaced = g.replacing(code)
      phase = p
      g.replied(p)
      return replaced
    },
  }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('SessionGuard', () => {
  it('times a command out only while the server waits for it', () => {
    const s = guard()
    s.reply('command') // greeting
    vi.advanceTimersByTime(4_000)
    s.g.line('command', Buffer.from('EHLO x\r\n'))
    s.set('busy')
    vi.advanceTimersByTime(10_000) // a slow hook: not the client's time
    expect(s.seen).toEqual([])
    s.reply('command')
    vi.advanceTimersByTime(5_000)
    expect(s.seen).toEqual(['command_timeout'])
  })

  it('counts the command deadline from the last reply', () => {
    const s = guard()
    s.reply('command') // greeting
    vi.advanceTimersByTime(1_000)
    s.g.line('command', Buffer.from('EHLO x\r\n'))
    vi.advanceTimersByTime(3_000)
    s.reply('command') // 4 s after the greeting: the deadline is now 9 s
    vi.advanceTimersByTime(4_999)
    expect(s.seen).toEqual([])
    vi.advanceTimersByTime(1)
    expect(s.seen).toEqual(['command_timeout'])
  })

  it('keeps a command deadline that fired with nothing awaited from counting later', () => {
    const s = guard({ sessionTimeout: 0 })
    s.reply('command')
    s.g.line('command', Buffer.from('DATA\r\n'))
    s.set('busy')
    vi.advanceTimersByTime(30_000) // the timer fired while a hook ran: nothing to report
    s.set('command') // no reply yet: the server is still not waiting for the client
    vi.advanceTimersByTime(30_000)
    expect(s.seen).toEqual([])
  })

  it('judges the data rate per window inside DATA, skipping windows where Haraka is busy', () => {
    const s = guard()
    s.reply('data', 354)
    s.g.line('data', Buffer.alloc(250))
    vi.advanceTimersByTime(2_000) // 250 >= 200: fine
    s.set('busy')
    vi.advanceTimersByTime(2_000) // paused by Haraka: not judged
    s.set('data')
    s.g.line('data', Buffer.alloc(10))
    vi.advanceTimersByTime(2_000)
    expect(s.seen).toEqual(['data_rate'])
  })

  it('lets the session deadline wait for a reply in progress', () => {
    const s = guard({ commandTimeout: 0 })
    s.reply('command')
    s.g.line('command', Buffer.from('DATA\r\n'))
    s.set('busy')
    vi.advanceTimersByTime(60_000)
    expect(s.seen).toEqual([])
    s.reply('command')
    expect(s.seen).toEqual(['session_timeout'])
  })

  it('ends the session at the error past the limit', () => {
    const s = guard()
    expect([s.reply('command', 500), s.reply('command', 503), s.reply('command', 500)]).toEqual([false, false, true])
    expect(s.seen).toEqual(['too_many_errors'])
  })

  it('monitor: reports each limit once and never ends the session', () => {
    const s = guard({}, false)
    for (let i = 0; i < 5; i++) expect(s.reply('command', 500)).toBe(false)
    vi.advanceTimersByTime(5_000)
    vi.advanceTimersByTime(5_000)
    expect(s.seen).toEqual(['too_many_errors', 'command_timeout'])
  })

  it('fires nothing after close()', () => {
    const s = guard()
    s.reply('command')
    s.g.close()
    vi.advanceTimersByTime(120_000)
    expect(s.seen).toEqual([])
  })
})
