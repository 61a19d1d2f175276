// Unit tests of `gateway track`'s options.
import { describe, expect, it } from 'vitest'

import { parseTrackArgs } from './track-args'

const now = Date.now()

describe('parseTrackArgs', () => {
  it('reads every filter, in both spellings, with the default limit', () => {
    expect(parseTrackArgs(['--message-id', '<a@b>', '--from=x@y', '--to', 'z@w', '--client-ip', '192.0.2.1', '--since', '1h', '--until', '5m', '--json'], now)).toEqual({
      filters: { messageId: '<a@b>', from: 'x@y', to: 'z@w', clientIp: '192.0.2.1', since: now - 3_600_000, until: now - 300_000, limit: 20 },
      json: true,
    })
    expect(parseTrackArgs([], now)).toEqual({ filters: { limit: 20 }, json: false })
    expect(parseTrackArgs(['--limit', '5'], now)).toEqual({ filters: { limit: 5 }, json: false })
  })

  it('refuses unknown options, missing values and bad times or limits', () => {
    for (const args of [['--bogus'], ['--from'], ['--since', 'yesterday'], ['--limit', '0'], ['--limit', 'x'], ['--to=']]) {
      expect(parseTrackArgs(args, now), args.join(' ')).toMatchObject({ error: expect.any(String) })
    }
  })
})
