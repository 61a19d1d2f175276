// Unit tests for LinkRouter: which destination each queue event belongs to and
// what it means (success, failure, bounce, waiting), outbound and inbound.
import { describe, expect, it } from 'vitest'

import { LinkRouter, type QueuedView } from './attribution'

const mail = (over: Partial<QueuedView> = {}): QueuedView => ({ domain: 'Partner.TEST', queueId: 'q1', queuedAt: 1000, recipients: [], ...over })
const hosts = [
  { host: '10.0.0.5', port: 25 },
  { host: '10.0.0.6', port: 2525 },
]

describe('outbound: the destination is the domain, lower case', () => {
  const r = new LinkRouter('outbound', hosts)

  it('waits under the domain, with the queue time', () => {
    expect(r.waiting(mail())).toEqual({ destination: 'partner.test', change: { kind: 'waiting', queueId: 'q1', queuedAt: 1000 } })
  })

  it('delivered: success with the MX name, reply and TLS; the message is done', () => {
    const params = ['mx.partner.test', '192.0.2.10', '2.0.0 Ok: queued', 0.5, 25, 'SMTP', [], true, false]
    expect(r.delivered(mail(), params)).toEqual([
      { destination: 'partner.test', change: { kind: 'success', host: 'mx.partner.test', reply: '2.0.0 Ok: queued', tls: true } },
      { destination: 'partner.test', change: { kind: 'done', queueId: 'q1' } },
    ])
  })

  it('deferred: one failure with the reply, still waiting; partial deferrals show the recipient reply', () => {
    expect(r.deferred(mail(), { err: 'Upstream error: 451 4.3.0 busy' })).toEqual([
      { destination: 'partner.test', change: { kind: 'failure', source: 'delivery', reply: 'Upstream error: 451 4.3.0 busy' } },
      { destination: 'partner.test', change: { kind: 'waiting', queueId: 'q1', queuedAt: 1000 } },
    ])
    const partial = r.deferred(mail(), { err: 'Some recipients temp failed: <a@partner.test>', fail_recips: [{ reason: '450 4.2.0 mailbox busy' }] })
    expect(partial[0]!.change).toEqual({ kind: 'failure', source: 'delivery', reply: '450 4.2.0 mailbox busy' })
  })

  it('bounce from the remote: recorded, ends the failure run; the message is done', () => {
    const err = Object.assign(new Error('Some recipients failed: <x@partner.test>'), { mx: { exchange: '192.0.2.10', port: 25 }, bounced_rcpt: [{ reason: '550 5.1.1 no such user' }] })
    expect(r.bounced(mail(), err)).toEqual([
      { destination: 'partner.test', change: { kind: 'bounce', reply: '550 5.1.1 no such user', fromRemote: true } },
      { destination: 'partner.test', change: { kind: 'done', queueId: 'q1' } },
    ])
    expect(r.bounced(mail(), new Error('Upstream error: 554 5.7.1 go away'))[0]!.change).toMatchObject({ kind: 'bounce', fromRemote: true })
    expect(r.bounced(mail(), new Error('No such domain: partner.test'))[0]!.change).toMatchObject({ kind: 'bounce', fromRemote: false })
  })

  it('a bounce because the retries ran out counts as the last failure', () => {
    expect(r.bounced(mail(), new Error('Too many failures (Tried all MXs)'))[0]).toEqual({
      destination: 'partner.test',
      change: { kind: 'failure', source: 'delivery', reply: 'Too many failures (Tried all MXs)' },
    })
  })
})

describe('inbound: the destination is an internal host', () => {
  const r = new LinkRouter('inbound', hosts)

  it('waits at the primary', () => {
    expect(r.waiting(mail({ domain: 'example.com' })).destination).toBe('10.0.0.5:25')
  })

  it('delivered: the host and port that took the message; the wait ends at the primary', () => {
    const out = r.delivered(mail(), ['10.0.0.6', '10.0.0.6', '250 ok', 1, 2525, 'SMTP', [], false, false])
    expect(out.map((t) => [t.destination, t.change.kind])).toEqual([
      ['10.0.0.6:2525', 'success'],
      ['10.0.0.5:25', 'done'],
    ])
    // a host name that resolved to an address: matched by the address Haraka connected to
    expect(r.delivered(mail(), ['mail.corp', '::ffff:10.0.0.5', '250 ok', 1, 25, 'SMTP', [], false, false])[0]!.destination).toBe('10.0.0.5:25')
  })

  it('"Tried all MXs" fails every internal host', () => {
    const out = r.deferred(mail(), { err: 'Tried all MXs' })
    expect(out.map((t) => [t.destination, t.change.kind])).toEqual([
      ['10.0.0.5:25', 'failure'],
      ['10.0.0.6:2525', 'failure'],
      ['10.0.0.5:25', 'waiting'],
    ])
  })

  it('a 4xx is charged to the host whose address answered, else the primary', () => {
    const answered = mail({ recipients: [{ remoteMta: '10.0.0.6' }] })
    expect(r.deferred(answered, { err: 'Upstream error: 451 4.3.0 busy' })[0]!.destination).toBe('10.0.0.6:2525')
    expect(r.deferred(mail(), { err: 'Upstream error: 451 4.3.0 busy' })[0]!.destination).toBe('10.0.0.5:25')
    expect(r.deferred(mail(), { err: 'Some recipients temp failed: <a@x>', mx: { exchange: '10.0.0.6', port: 2525 } })[0]!.destination).toBe('10.0.0.6:2525')
    // two hosts on one address: the answer cannot be told apart: primary
    const same = new LinkRouter('inbound', [
      { host: '10.0.0.5', port: 25 },
      { host: '10.0.0.5', port: 26 },
    ])
    expect(same.deferred(mail({ recipients: [{ remoteMta: '10.0.0.5' }] }), { err: 'Upstream error: 451 busy' })[0]!.destination).toBe('10.0.0.5:25')
    expect(r.deferred(mail(), { err: 'No TLS available but required by configuration.' })[0]!.destination).toBe('10.0.0.5:25')
  })

  it('a message deleted by an administrator only stops waiting', () => {
    expect(r.withdrawn(mail())).toEqual([{ destination: '10.0.0.5:25', change: { kind: 'done', queueId: 'q1' } }])
  })
})
