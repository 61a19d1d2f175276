// Unit tests of the tracking event JSON: what is written is read back; anything
// else (another version, unknown type, not JSON) is refused.
import { describe, expect, it } from 'vitest'

import { eventJson, EVENT_VERSION, parseEvent, type TrackEvent } from './event'

const event: TrackEvent = {
  v: EVENT_VERSION,
  type: 'DEFER',
  time: new Date(5_000).toISOString(),
  node: 'gw1',
  instance: 'outbound',
  recordId: 'R.1',
  queueId: 'R.1.1',
  messageId: '<m@x>',
  reply: '451 4.3.0 later',
  nextAttempt: new Date(65_000).toISOString(),
  attempts: 1,
}

describe('tracking events', () => {
  it('are one line of JSON, read back unchanged', () => {
    const line = eventJson(event)
    expect(line).not.toContain('\n')
    expect(parseEvent(line)).toEqual(event)
  })

  it('refuses what is not an event of this version', () => {
    expect(parseEvent('not json')).toBeUndefined()
    expect(parseEvent(JSON.stringify({ ...event, v: 2 }))).toBeUndefined()
    expect(parseEvent(JSON.stringify({ ...event, type: 'EXPLODE' }))).toBeUndefined()
    expect(parseEvent(JSON.stringify({ ...event, instance: 'x' }))).toBeUndefined()
    expect(parseEvent(JSON.stringify({ ...event, recordId: 5 }))).toBeUndefined()
  })
})
