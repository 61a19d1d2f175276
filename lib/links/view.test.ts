// Unit tests for `gateway links` output: order, relative times from an injected
// "now", aligned columns, truncated replies and the JSON document.
import { describe, expect, it } from 'vitest'

import { parseLinksArgs } from './args'
import type { LinkState } from './fields'
import { age, ago, alignColumns, formatTable, sortLinks, toJson } from './view'

const NOW = Date.parse('2026-12-02T12:00:00Z')
const link = (over: Partial<LinkState>): LinkState => ({
  instance: 'outbound',
  destination: 'x.test',
  deliveryFailures: 0,
  probeFailures: 0,
  lastSuccess: null,
  lastFailure: null,
  lastBounce: null,
  lastProbe: null,
  waiting: 0,
  oldestWaiting: null,
  node: 'gw1',
  updatedAt: NOW,
  ...over,
})

describe('sortLinks', () => {
  it('failing first, then the most waiting, then instance and name', () => {
    const states = [
      link({ destination: 'b.test' }),
      link({ destination: 'a.test' }),
      link({ destination: 'busy.test', waiting: 5 }),
      link({ destination: 'down.test', deliveryFailures: 1 }),
      link({ instance: 'inbound', destination: '10.0.0.5:25', probeFailures: 2, waiting: 3 }),
      link({ instance: 'inbound', destination: '10.0.0.6:25' }),
    ]
    expect(sortLinks(states).map((s) => s.destination)).toEqual(['10.0.0.5:25', 'down.test', 'busy.test', '10.0.0.6:25', 'a.test', 'b.test'])
  })
})

describe('relative times', () => {
  it('uses the largest unit', () => {
    expect(ago(NOW, NOW)).toBe('now')
    expect(ago(NOW + 5000, NOW)).toBe('now')
    expect(ago(NOW - 45_000, NOW)).toBe('45s ago')
    expect(ago(NOW - 3 * 60_000 - 10_000, NOW)).toBe('3m ago')
    expect(ago(NOW - 2 * 3_600_000, NOW)).toBe('2h ago')
    expect(ago(NOW - 5 * 86_400_000, NOW)).toBe('5d ago')
    expect(age(NOW - 90_000, NOW)).toBe('1m')
  })
})

describe('formatTable', () => {
  it('aligns columns, failing first, with relative times and the reply cut to the column', () => {
    const text = formatTable(
      [
        link({ destination: 'partner.test', lastSuccess: { at: NOW - 180_000, host: 'mx', reply: '250', tls: true } }),
        link({
          destination: 'down.test',
          deliveryFailures: 2,
          lastFailure: { at: NOW - 30_000, reply: `Upstream error: 451 4.3.0 ${'z'.repeat(100)}`, source: 'delivery' },
          waiting: 1,
          oldestWaiting: NOW - 600_000,
        }),
        link({ instance: 'inbound', destination: '10.0.0.5:25', probeFailures: 1, lastFailure: { at: NOW - 1000, reply: 'connect ECONNREFUSED', source: 'probe' } }),
      ],
      NOW,
    )
    const lines = text.split('\n')
    expect(lines[0]).toMatch(/^INSTANCE +DESTINATION +STATE +FAILURES +LAST SUCCESS +LAST FAILURE +WAITING +OLDEST +TLS$/)
    expect(lines[1]).toMatch(/^outbound +down\.test +FAILING +2 +never +30s ago: Upstream error: 451 4\.3\.0 z+\.\.\. +1 +10m +-$/)
    expect(lines[2]).toMatch(/^inbound +10\.0\.0\.5:25 +FAILING +1 +never +1s ago: probe: connect ECONNREFUSED +0 +- +-$/)
    expect(lines[3]).toMatch(/^outbound +partner\.test +ok +0 +3m ago +- +0 +- +yes$/)
    // aligned: the third column (STATE) starts at the same offset on every line
    expect(new Set(lines.map((l) => /^\S+ +\S+ +/.exec(l)![0].length)).size).toBe(1)
    expect(lines[2]!.length).toBeLessThan(200)
  })

  it('alignColumns pads all but the last column', () => {
    expect(alignColumns([['a', 'bb', 'c'], ['aaa', 'b', 'cc']])).toBe('a    bb  c\naaa  b   cc')
  })
})

describe('toJson', () => {
  it('schema version 1: absolute ISO times, state, counts, TLS of the last delivery', () => {
    const doc = toJson(
      [
        link({
          destination: 'partner.test',
          deliveryFailures: 1,
          lastSuccess: { at: NOW - 60_000, host: 'mx.partner.test', reply: '250 ok', tls: false },
          lastFailure: { at: NOW - 1000, reply: 'Upstream error: 451 busy', source: 'delivery' },
          lastBounce: { at: NOW - 2000, reply: '550 5.1.1 unknown' },
          waiting: 2,
          oldestWaiting: NOW - 5000,
        }),
      ],
      NOW,
    )
    expect(doc).toEqual({
      version: 1,
      generatedAt: '2026-12-02T12:00:00.000Z',
      links: [
        {
          instance: 'outbound',
          destination: 'partner.test',
          state: 'failing',
          consecutiveFailures: 1,
          deliveryFailures: 1,
          probeFailures: 0,
          lastSuccess: { at: '2026-12-02T11:59:00.000Z', host: 'mx.partner.test', reply: '250 ok', tls: false },
          lastFailure: { at: '2026-12-02T11:59:59.000Z', reply: 'Upstream error: 451 busy', source: 'delivery' },
          lastBounce: { at: '2026-12-02T11:59:58.000Z', reply: '550 5.1.1 unknown' },
          lastProbe: null,
          waiting: 2,
          oldestWaiting: '2026-12-02T11:59:55.000Z',
          tls: false,
          node: 'gw1',
          updatedAt: '2026-12-02T12:00:00.000Z',
        },
      ],
    })
  })
})

describe('parseLinksArgs', () => {
  it('reads --instance and --json; refuses anything else', () => {
    expect(parseLinksArgs([])).toEqual({ instances: ['inbound', 'outbound'], json: false })
    expect(parseLinksArgs(['--instance', 'outbound', '--json'])).toEqual({ instances: ['outbound'], json: true })
    expect(parseLinksArgs(['--instance=inbound'])).toEqual({ instances: ['inbound'], json: false })
    expect(parseLinksArgs(['--instance', 'sideways'])).toHaveProperty('problem')
    expect(parseLinksArgs(['--instance'])).toHaveProperty('problem')
    expect(parseLinksArgs(['--verbose'])).toHaveProperty('problem')
  })
})
