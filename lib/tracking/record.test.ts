// Unit tests of the tracking record's reader: a valid document is read back as
// written; unknown versions, corrupt JSON and wrong shapes are reported as such.
import { describe, expect, it } from 'vitest'

import { parseRecord, serializeRecord } from './record'
import { sampleRecord } from './testing'

describe('parseRecord', () => {
  it('reads back what serializeRecord wrote', () => {
    const r = sampleRecord()
    expect(parseRecord(r.id, serializeRecord(r))).toEqual({ kind: 'ok', record: r })
  })

  it('reports a missing record', () => {
    expect(parseRecord('X', null)).toEqual({ kind: 'missing', id: 'X' })
  })

  it('reports corrupt JSON and non-objects', () => {
    expect(parseRecord('X', '{"v":1,')).toEqual({ kind: 'corrupt', id: 'X', why: 'not JSON' })
    expect(parseRecord('X', '[1]')).toEqual({ kind: 'corrupt', id: 'X', why: 'not a JSON object' })
  })

  it('reports an unknown schema version without trusting the rest', () => {
    expect(parseRecord('X', JSON.stringify({ ...sampleRecord({ id: 'X' }), v: 2 }))).toEqual({ kind: 'unknown-version', id: 'X', version: 2 })
    expect(parseRecord('X', '{"id":"X"}')).toEqual({ kind: 'unknown-version', id: 'X', version: undefined })
  })

  it('reports a document with the right version but the wrong shape', () => {
    const bad = (over: Record<string, unknown>) => parseRecord('AAAA-1.1', JSON.stringify({ ...sampleRecord(), ...over }))
    expect(bad({ id: 'other' })).toMatchObject({ kind: 'corrupt', why: expect.stringContaining('is not the key') })
    expect(bad({ status: 'lost' })).toMatchObject({ kind: 'corrupt', why: 'unknown status "lost"' })
    expect(bad({ to: 'bob@example.com' })).toMatchObject({ kind: 'corrupt', why: 'to is not a list of addresses' })
    expect(bad({ client: { ip: 5 } })).toMatchObject({ kind: 'corrupt' })
    expect(bad({ checks: [{ check: 'spf' }] })).toMatchObject({ kind: 'corrupt' })
    expect(bad({ time: 'yesterday' })).toMatchObject({ kind: 'corrupt', why: 'time is not a number' })
    expect(bad({ instance: 'sideways' })).toMatchObject({ kind: 'corrupt' })
  })
})
