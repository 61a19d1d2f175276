// Unit test of the catalog: every counter field of the gateway has its metric,
// names follow Prometheus conventions, and label values stay bounded whatever a
// counter field says (prototype names, addresses, free text, extra colons).

import { describe, expect, it } from 'vitest'

import { LINKS_MISSED } from '../links/fields'
import { SCL_BANDS as STAT_SCL_BANDS, STAT } from '../stats/fields'
import { MISSED } from '../tracking/write-unit'
import { mapCount, METRIC, METRICS, overflowLabels, SCL_BANDS } from './catalog'

const def = (name: string) => METRICS.find((m) => m.name === name)!

describe('metric catalog', () => {
  it('maps the fixed counters to metrics with units and suffixes', () => {
    expect(mapCount('connections', 1)).toEqual({ metric: 'gateway_connections_total', labels: {} })
    expect(mapCount('messages_accepted', 1)).toEqual({ metric: 'gateway_messages_total', labels: { result: 'accepted' } })
    expect(mapCount('messages_rejected', 1)).toEqual({ metric: 'gateway_messages_total', labels: { result: 'rejected' } })
    expect(mapCount('messages_tempfailed', 1)).toEqual({ metric: 'gateway_messages_total', labels: { result: 'tempfailed' } })
    expect(mapCount('recipients_rejected', 1)).toEqual({ metric: 'gateway_recipients_total', labels: { result: 'rejected' } })
    expect(mapCount('bytes_accepted', 4096)).toEqual({ metric: 'gateway_received_bytes_total', labels: {} })
    expect(mapCount('bytes_delivered', 10)).toEqual({ metric: 'gateway_delivered_bytes_total', labels: {} })
    expect(mapCount('sessions_rejected', 1)).toEqual({ metric: 'gateway_sessions_rejected_total', labels: {} })
    expect(mapCount('redis_write_failures', 1)).toEqual({ metric: 'gateway_redis_write_failures_total', labels: {} })
    expect(mapCount('tracking_records_missed', 3)).toEqual({ metric: 'gateway_writes_missed_total', labels: { kind: 'tracking_records' } })
    expect(mapCount('links_updates_missed', 3)).toEqual({ metric: 'gateway_writes_missed_total', labels: { kind: 'links_updates' } })
  })

  it('knows every counter field the gateway writes (no STAT field ends up as an "other" event)', () => {
    const fields = [...Object.values(STAT), MISSED.records, MISSED.events, LINKS_MISSED]
    for (const f of fields) {
      const m = mapCount(f, 1)
      expect('metric' in m && m.metric !== METRIC.otherEvents, `counter field ${f}`).toBe(true)
    }
    expect(SCL_BANDS).toEqual(STAT_SCL_BANDS)
  })

  it('uses Prometheus names: gateway_ prefix, _total counters, base units, one help each', () => {
    const names = METRICS.map((m) => m.name)
    expect(new Set(names).size).toBe(names.length)
    for (const m of METRICS) {
      expect(m.name).toMatch(/^gateway_[a-z_]+_total$/)
      expect(m.name).not.toMatch(/_(kb|mb|ms|count)_/)
      expect(m.help.length).toBeGreaterThan(10)
      for (const l of m.labelNames) expect(['instance', 'node']).not.toContain(l) // default labels, set on the registry
    }
  })

  it('maps decisions to {check, action} and bounds both', () => {
    expect(mapCount('check:spam:reject', 1)).toEqual({ metric: METRIC.checkDecisions, labels: { check: 'spam', action: 'reject' } })
    expect(mapCount('check:auth-lockout:tempfail', 1)).toEqual({ metric: METRIC.checkDecisions, labels: { check: 'auth-lockout', action: 'tempfail' } })
    const labelsOf = (f: string) => (mapCount(f, 1) as { labels: Record<string, string> }).labels
    expect(labelsOf('check:__proto__:reject')).toEqual({ check: 'other', action: 'reject' })
    expect(labelsOf('check:spam:__proto__')).toEqual({ check: 'spam', action: 'other' })
    expect(labelsOf('check:victim@example.com:reject')).toEqual({ check: 'other', action: 'reject' })
    expect(labelsOf('check:a b\r\nX-Evil: 1:reject')).toEqual({ check: 'other', action: 'other' })
    expect(labelsOf('check:a b\r\nX:reject')).toEqual({ check: 'other', action: 'reject' })
    expect(labelsOf('check:spam:reject:extra')).toEqual({ check: 'other', action: 'other' })
    expect(labelsOf('check:Spam:REJECT')).toEqual({ check: 'other', action: 'other' })
    expect(labelsOf(`check:${'x'.repeat(41)}:reject`)).toEqual({ check: 'other', action: 'reject' })
    expect(labelsOf('check:')).toEqual({ check: 'other', action: 'other' })
    // names that exist on Object.prototype are ordinary (bounded) names, never prototype lookups
    expect(labelsOf('check:constructor:tostring')).toEqual({ check: 'constructor', action: 'tostring' })
  })

  it('maps ROI and spam bands with fixed label sets', () => {
    expect(mapCount('roi:first:spam', 1)).toEqual({ metric: METRIC.filterRoi, labels: { kind: 'first', check: 'spam' } })
    expect(mapCount('roi:bogus:spam', 1)).toEqual({ metric: METRIC.filterRoi, labels: { kind: 'other', check: 'spam' } })
    expect(mapCount('spam_scl:7-9', 1)).toEqual({ metric: METRIC.spamScl, labels: { band: '7-9' } })
    expect(mapCount('spam_scl:10', 1)).toEqual({ metric: METRIC.spamScl, labels: { band: 'other' } })
  })

  it('exports unknown but well-formed counters as other events, and drops the rest', () => {
    expect(mapCount('new_counter:x.y-z', 1)).toEqual({ metric: METRIC.otherEvents, labels: { event: 'new_counter:x.y-z' } })
    expect(mapCount('__proto__', 1)).toEqual({ metric: METRIC.otherEvents, labels: { event: '__proto__' } })
    expect(mapCount('constructor', 1)).toEqual({ metric: METRIC.otherEvents, labels: { event: 'constructor' } })
    expect(mapCount('user@example.com', 1)).toEqual({ dropped: 'invalid_name' })
    expect(mapCount('Has Spaces', 1)).toEqual({ dropped: 'invalid_name' })
    expect(mapCount('', 1)).toEqual({ dropped: 'invalid_name' })
    expect(mapCount('x'.repeat(65), 1)).toEqual({ dropped: 'invalid_name' })
    expect(mapCount('a"b', 1)).toEqual({ dropped: 'invalid_name' })
  })

  it('drops increments a counter cannot take', () => {
    for (const by of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(mapCount('connections', by)).toEqual({ dropped: 'invalid_increment' })
    expect(mapCount('connections', 0)).toEqual({ metric: METRIC.connections, labels: {} })
  })

  it('gives overflow labels that keep the usual actions and nothing else', () => {
    expect(overflowLabels(def(METRIC.checkDecisions), { check: 'x', action: 'reject' })).toEqual({ check: 'other', action: 'reject' })
    expect(overflowLabels(def(METRIC.checkDecisions), { check: 'x', action: 'weird' })).toEqual({ check: 'other', action: 'other' })
    expect(overflowLabels(def(METRIC.filterRoi), { kind: 'also', check: 'x' })).toEqual({ kind: 'also', check: 'other' })
    expect(overflowLabels(def(METRIC.otherEvents), { event: 'x' })).toEqual({ event: 'other' })
  })
})
