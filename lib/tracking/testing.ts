// Sample records and events for the tracking unit tests (shared by several test files).

import { EVENT_VERSION, type TrackEvent } from './event'
import { RECORD_VERSION, type TrackRecord } from './record'

export function sampleRecord(over: Partial<TrackRecord> = {}): TrackRecord {
  return {
    v: RECORD_VERSION,
    id: 'AAAA-1.1',
    node: 'gw1',
    instance: 'inbound',
    time: 1_000_000,
    status: 'accepted',
    client: { ip: '203.0.113.5', rdns: 'mx.sender.test', helo: 'mx.sender.test' },
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    auth: null,
    from: 'alice@sender.test',
    to: ['bob@example.com'],
    messageId: '<m1@sender.test>',
    size: 1234,
    senderAuth: { spf: 'pass (sender.test)', dkim: [], dmarc: 'pass (sender.test)' },
    checks: [{ check: 'spam', result: 'scl_1', action: 'accept' }],
    action: 'deliver',
    queueId: 'AAAA-1.1',
    quarantineId: null,
    reply: null,
    inboundRecordId: null,
    ...over,
  }
}

export function sampleEvent(type: TrackEvent['type'], over: Partial<TrackEvent> = {}): TrackEvent {
  return {
    v: EVENT_VERSION,
    type,
    time: new Date(1_000_000).toISOString(),
    node: 'gw1',
    instance: 'inbound',
    recordId: 'AAAA-1.1',
    queueId: null,
    messageId: '<m1@sender.test>',
    ...over,
  }
}
