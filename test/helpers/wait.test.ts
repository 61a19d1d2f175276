// What the waiting helpers return, and what their timeout errors show: the awaited
// pattern and the end of the text, or the last reading. Conditions here are met by
// the n-th reading or never, so no outcome depends on the clock.

import { describe, expect, it } from 'vitest'

import { MailSink } from './mail-sink'
import { lastReading, waitForMatch } from './wait'

describe('waitForMatch', () => {
  it('returns the match once the text has it', async () => {
    let reads = 0
    const text = () => (++reads < 3 ? 'starting' : 'starting\nListening on 127.0.0.1:2525\n')
    const m = await waitForMatch(text, /Listening on (\S+)/, { timeoutMs: 5_000, intervalMs: 1, where: 'inbound log' })
    expect(m[1]).toBe('127.0.0.1:2525')
  })

  it('names the pattern and shows the tail of the text on timeout', async () => {
    const log = `${'x'.repeat(5000)}\nthe last lines`
    await expect(waitForMatch(() => log, /Listening on/, { timeoutMs: 50, intervalMs: 10, where: 'inbound log', tail: 20 })).rejects.toThrow(
      /^inbound log has no \/Listening on\/ after 50 ms:\nx{5}\nthe last lines$/,
    )
  })
})

describe('lastReading', () => {
  it('returns the first reading that is done', async () => {
    let n = 0
    expect(await lastReading(() => ++n, (v) => v === 3, { timeoutMs: 5_000, intervalMs: 1 })).toBe(3)
  })

  it('returns the last reading when time is up, for the caller to assert on', async () => {
    expect(await lastReading(async () => 'not yet', () => false, { timeoutMs: 50, intervalMs: 10 })).toBe('not yet')
  })

  it('fails at once when a reading throws', async () => {
    let n = 0
    const read = () => {
      if (++n === 2) throw new Error('stats exited with 69')
      return n
    }
    await expect(lastReading(read, () => false, { timeoutMs: 5_000, intervalMs: 1 })).rejects.toThrow('stats exited with 69')
    expect(n).toBe(2)
  })
})

describe('MailSink waits', () => {
  it('name what did not arrive and how much else did', async () => {
    const sink = new MailSink({ host: '127.0.0.1', port: 0 })
    sink.messages.push({ from: 'a@b.test', to: ['c@d.test'], raw: 'Subject: other\r\n\r\nhello\r\n', bytes: Buffer.from('Subject: other\r\n\r\nhello\r\n'), remoteAddress: '127.0.0.1', helo: 'x', secure: false })
    await expect(sink.waitForMessage((m) => m.raw.includes('marker-1'), 'the message marker-1', { timeoutMs: 50, intervalMs: 10 })).rejects.toThrow(
      '127.0.0.1:0 did not receive the message marker-1 in 50 ms (1 other message(s) arrived)',
    )
    await expect(sink.waitFor(2, 50)).rejects.toThrow('127.0.0.1:0 received 1 of 2 messages in 50 ms')
    expect(await sink.waitFor(1, 50)).toHaveLength(1)
  })
})
