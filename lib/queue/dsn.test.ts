// Unit tests for DSN routing (only our own senders) and the RFC 3464 per-recipient fields.
import { describe, expect, it } from 'vitest'

import { completeFailedRecipient, routeDsn, withoutFalseEnvelopeId, type DsnPolicy, type DsnRecipient } from './dsn'

const policy: DsnPolicy = { acceptedDomains: new Set(['example.com']), foreignSender: 'drop', postmaster: '' }

describe('routeDsn', () => {
  it('sends to a sender in an accepted domain (any case)', () => {
    expect(routeDsn({ user: 'app', host: 'Example.COM' }, policy)).toEqual({ kind: 'sender' })
  })

  it('drops, or redirects to the postmaster, a sender outside the accepted domains', () => {
    expect(routeDsn({ user: 'x', host: 'elsewhere.test' }, policy)).toEqual({ kind: 'drop' })
    expect(routeDsn({ user: 'x', host: 'constructor' }, policy)).toEqual({ kind: 'drop' })
    expect(routeDsn({ user: 'x', host: 'elsewhere.test' }, { ...policy, foreignSender: 'postmaster', postmaster: 'pm@example.com' })).toEqual({
      kind: 'postmaster',
      address: 'pm@example.com',
    })
  })

  it('leaves the null sender to Haraka (no DSN about a DSN)', () => {
    expect(routeDsn({ user: '', host: '' }, { ...policy, foreignSender: 'postmaster', postmaster: 'pm@example.com' })).toEqual({ kind: 'null-sender' })
  })
})

describe('completeFailedRecipient', () => {
  const complete = (r: DsnRecipient) => (completeFailedRecipient(r), r)

  it('keeps a permanent enhanced status and types the remote MTA', () => {
    expect(complete({ dsn_status: '5.1.1', dsn_remote_mta: '192.0.2.1' })).toEqual({ dsn_action: 'failed', dsn_status: '5.1.1', dsn_remote_mta: 'dns; 192.0.2.1' })
    expect(complete({ dsn_status: '5.1.1', dsn_remote_mta: 'dns; mx.test' }).dsn_remote_mta).toBe('dns; mx.test')
  })

  it('supplies the required Status when the remote gave no enhanced code', () => {
    expect(complete({}).dsn_status).toBe('5.0.0')
    expect(complete({ dsn_status: 'garbage' }).dsn_status).toBe('5.0.0')
  })

  it('turns a temporary status that ran out of retries into a permanent one', () => {
    expect(complete({ dsn_action: 'delayed', dsn_status: '4.4.1' })).toMatchObject({ dsn_action: 'failed', dsn_status: '5.4.1' })
  })
})

it('withoutFalseEnvelopeId drops only that field', () => {
  expect(withoutFalseEnvelopeId(['Original-Envelope-Id: <m@x>\r\n', 'Reporting-MTA: dns;gw\r\n'])).toEqual(['Reporting-MTA: dns;gw\r\n'])
})
