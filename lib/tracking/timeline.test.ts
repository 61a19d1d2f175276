// Unit tests of `gateway track`'s grouping and timeline: legs of one message at
// both instances are grouped (same Message-ID, or the outbound record's linked
// inbound record), inbound first, and told as one line per leg; invalid records
// are shown as such; the --json document has its documented shape.
import { describe, expect, it } from 'vitest'

import type { TrackEvent } from './event'
import type { LoadedRecord } from './query'
import type { RecordReading, TrackRecord } from './record'
import { sampleEvent, sampleRecord } from './testing'
import { formatGroup, groupMessages, jsonDocument, summaryLine, TRACK_JSON_VERSION } from './timeline'

const t0 = Date.now() - 60_000
const at = (s: number) => new Date(t0 + s * 1000).toISOString()
const ok = (r: TrackRecord, events: TrackEvent[] = []): LoadedRecord => ({ reading: { kind: 'ok', record: r }, events, eventsMissing: 0 })
const bad = (reading: RecordReading): LoadedRecord => ({ reading, events: [], eventsMissing: 0 })

const inbound = sampleRecord({ id: 'IN.1', time: t0, queueId: 'IN.1' })
const inboundEvents = [
  sampleEvent('RECEIVE', { recordId: 'IN.1', time: at(0) }),
  sampleEvent('QUEUE', { recordId: 'IN.1', time: at(0), queueId: 'IN.1.1', destination: 'example.com' }),
  sampleEvent('DELIVER', { recordId: 'IN.1', time: at(1), queueId: 'IN.1.1', host: '10.0.0.5[10.0.0.5]:25', reply: '250 ok', tls: true }),
]
const outbound = sampleRecord({
  id: 'OUT.1',
  instance: 'outbound',
  time: t0 + 5000,
  client: { ip: '10.0.0.5', rdns: null, helo: 'exchange.corp' },
  auth: 'bob@example.com',
  from: 'bob@example.com',
  to: ['carol@partner.test'],
  messageId: '<M1@Sender.test>',
  checks: [],
  senderAuth: null,
  queueId: 'OUT.1',
})
const outboundEvents = [
  sampleEvent('RECEIVE', { recordId: 'OUT.1', instance: 'outbound', time: at(5) }),
  sampleEvent('QUEUE', { recordId: 'OUT.1', instance: 'outbound', time: at(5), queueId: 'OUT.1.1', destination: 'partner.test' }),
  sampleEvent('DEFER', { recordId: 'OUT.1', instance: 'outbound', time: at(6), reply: '451 4.3.0 later', nextAttempt: at(66) }),
  sampleEvent('DEFER', { recordId: 'OUT.1', instance: 'outbound', time: at(66), reply: '451 4.3.0 later' }),
  sampleEvent('DELIVER', { recordId: 'OUT.1', instance: 'outbound', time: at(130), host: 'mx.partner.test[192.0.2.1]:25', reply: '250 2.0.0 queued' }),
]

describe('groupMessages', () => {
  it('puts both legs of one message together, inbound first, whatever the order found', () => {
    const groups = groupMessages(new Map([['OUT.1', ok(outbound, outboundEvents)], ['IN.1', ok(inbound, inboundEvents)]]))
    expect(groups).toHaveLength(1)
    expect(groups[0]!.legs.map((l) => l.id)).toEqual(['IN.1', 'OUT.1'])
    expect(groups[0]!.messageId).toBe('<m1@sender.test>')
  })

  it('links an outbound leg to its inbound record even when the Message-ID differs', () => {
    const linked = { ...outbound, messageId: '<other@x>', inboundRecordId: 'IN.1' }
    expect(groupMessages(new Map([['IN.1', ok(inbound)], ['OUT.1', ok(linked)]]))).toHaveLength(1)
  })

  it('keeps different messages apart, oldest first, and invalid records on their own', () => {
    const other = sampleRecord({ id: 'IN.2', time: t0 - 1000, messageId: '<m2@x>' })
    const groups = groupMessages(new Map([['IN.1', ok(inbound)], ['IN.2', ok(other)], ['BAD', bad({ kind: 'corrupt', id: 'BAD', why: 'not JSON' })]]))
    expect(groups.map((g) => g.legs.map((l) => l.id))).toEqual([['IN.2'], ['IN.1'], ['BAD']])
  })
})

describe('timeline', () => {
  it('tells each leg in one line', () => {
    expect(summaryLine(inbound, inboundEvents)).toBe('Internet 203.0.113.5 → inbound gw1 (checks: spf=pass dkim=none dmarc=pass spam=scl_1) → queued → delivered to internal 10.0.0.5[10.0.0.5]:25 (250 ok)')
    expect(summaryLine(outbound, outboundEvents)).toBe(
      'internal 10.0.0.5 (bob@example.com) → outbound gw1 → queued → deferred twice (451 4.3.0 later), delivered to remote mx.partner.test[192.0.2.1]:25 (250 2.0.0 queued)',
    )
  })

  it('tells refusals, quarantine and release, bounces and waiting mail', () => {
    const rejected = sampleRecord({ senderAuth: null, status: 'rejected', action: 'reject', reply: '550 5.7.1 Access denied', checks: [{ check: 'sender-blocklist', result: 'blocked', action: 'reject' }] })
    expect(summaryLine(rejected, [sampleEvent('REJECT', { check: 'sender-blocklist' })])).toBe(
      'Internet 203.0.113.5 → inbound gw1 (checks: sender-blocklist=blocked/reject) → rejected by sender-blocklist (550 5.7.1 Access denied)',
    )
    const held = sampleRecord({ senderAuth: null, status: 'quarantined', action: 'quarantine', quarantineId: 'q1', checks: [] })
    expect(summaryLine(held, [])).toBe('Internet 203.0.113.5 → inbound gw1 → quarantined as q1')
    expect(summaryLine(held, [sampleEvent('RELEASE', { by: 'root' }), sampleEvent('DELIVER', { host: 'h:25', reply: '250 ok' })])).toBe(
      'Internet 203.0.113.5 → inbound gw1 → quarantined as q1 → released by root → queued → delivered to internal h:25 (250 ok)',
    )
    const out = { ...outbound, checks: [] }
    expect(summaryLine(out, [sampleEvent('BOUNCE', { reply: '550 5.1.1 no such user' }), sampleEvent('DSN-SENT', { dsnTo: 'bob@example.com' })])).toBe(
      'internal 10.0.0.5 (bob@example.com) → outbound gw1 → queued → bounced (550 5.1.1 no such user), DSN sent to bob@example.com',
    )
    expect(summaryLine(out, [])).toMatch(/→ queued → waiting for delivery$/)
  })

  it('prints a message with both legs and their events, and invalid records as such', () => {
    const [g] = groupMessages(new Map([['IN.1', ok(inbound, inboundEvents)], ['OUT.1', ok(outbound, outboundEvents)]]))
    const lines = formatGroup(g!)
    expect(lines[0]).toBe('Message <m1@sender.test>  from <alice@sender.test> to <bob@example.com>')
    expect(lines.findIndex((l) => l.startsWith('  inbound leg'))).toBeLessThan(lines.findIndex((l) => l.startsWith('  outbound leg')))
    expect(lines.filter((l) => /^\s{4}\S+Z\s+DEFER/.test(l))).toHaveLength(2)
    const [b] = groupMessages(new Map([['V9', bad({ kind: 'unknown-version', id: 'V9', version: 9 })]]))
    expect(formatGroup(b!)).toContain('  record V9: INVALID (unknown schema version 9); not shown')
  })

  it('has a versioned --json document', () => {
    const doc = jsonDocument(groupMessages(new Map([['IN.1', ok(inbound, inboundEvents)], ['BAD', bad({ kind: 'corrupt', id: 'BAD', why: 'not JSON' })]])))
    expect(doc).toEqual({
      version: TRACK_JSON_VERSION,
      messages: [
        { messageId: '<m1@sender.test>', records: [{ id: 'IN.1', valid: true, problem: null, record: inbound, summary: expect.stringContaining('delivered'), events: inboundEvents, eventsMissing: 0 }] },
        { messageId: null, records: [{ id: 'BAD', valid: false, problem: 'corrupt: not JSON', record: null, summary: null, events: [], eventsMissing: 0 }] },
      ],
    })
  })
})
