// Unit test of the prom-client counters behind the catalog: increments land on the
// right series, unknown and invalid fields are counted as such, and the number of
// label sets of an open metric is capped (beyond: "other").

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'

import { MetricCounters } from './counters'

async function values(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const out: Record<string, number> = {}
  for (const v of (metric as { values?: { labels: Record<string, string | number>; value: number }[] } | undefined)?.values ?? []) {
    out[JSON.stringify(v.labels)] = v.value
  }
  return out
}

describe('MetricCounters', () => {
  it('counts fields into their metrics, starting the fixed series at 0', async () => {
    const r = new Registry()
    const c = new MetricCounters(r)
    expect(await values(r, 'gateway_messages_total')).toEqual({ '{"result":"accepted"}': 0, '{"result":"rejected"}': 0, '{"result":"tempfailed"}': 0 })
    c.count('messages_accepted', 1)
    c.count('messages_accepted', 1)
    c.count('bytes_accepted', 1234)
    c.count('check:spam:reject', 1)
    c.count('victim@example.com', 1)
    c.count('connections', -5)
    expect((await values(r, 'gateway_messages_total'))['{"result":"accepted"}']).toBe(2)
    expect(await values(r, 'gateway_received_bytes_total')).toEqual({ '{}': 1234 })
    expect(await values(r, 'gateway_check_decisions_total')).toEqual({ '{"check":"spam","action":"reject"}': 1 })
    expect(await values(r, 'gateway_metrics_dropped_total')).toEqual({ '{"reason":"invalid_name"}': 1, '{"reason":"invalid_increment"}': 1 })
    expect(await values(r, 'gateway_connections_total')).toEqual({ '{}': 0 })
  })

  it('caps the label sets of a metric: new checks beyond the cap count as check="other"', async () => {
    const r = new Registry()
    const c = new MetricCounters(r)
    for (let i = 0; i < 250; i++) c.count(`check:c${i}:reject`, 1)
    c.count('check:c0:reject', 1) // known before the cap: still its own series
    c.count('check:late:oddaction', 1)
    const v = await values(r, 'gateway_check_decisions_total')
    expect(Object.keys(v).length).toBe(202) // 200 + other/reject + other/other
    expect(v['{"check":"c0","action":"reject"}']).toBe(2)
    expect(v['{"check":"other","action":"reject"}']).toBe(50)
    expect(v['{"check":"other","action":"other"}']).toBe(1)
  })

  it('counts prototype names like any other name, without touching prototypes', async () => {
    const r = new Registry()
    const c = new MetricCounters(r)
    for (const f of ['__proto__', 'constructor', 'check:__proto__:reject', 'check:constructor:reject', 'roi:__proto__:hasOwnProperty']) c.count(f, 1)
    expect(await values(r, 'gateway_other_events_total')).toEqual({ '{"event":"__proto__"}': 1, '{"event":"constructor"}': 1 })
    expect(await values(r, 'gateway_check_decisions_total')).toEqual({ '{"check":"other","action":"reject"}': 1, '{"check":"constructor","action":"reject"}': 1 })
    expect(await values(r, 'gateway_filter_roi_total')).toEqual({ '{"kind":"other","check":"other"}': 1 })
    expect(({} as Record<string, unknown>).reject).toBeUndefined()
  })
})
