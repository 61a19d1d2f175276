// Retries and bounces of the outbound queue, over real SMTP: a temporary failure
// is retried and delivered once; a permanent failure (or retries running out)
// gives the internal sender an RFC 3464 delivery status notification through
// the internal mail server, and no DSN ever goes out to the Internet.

import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { listQueue } from '../lib/queue/qfile'
import { FixtureDns } from './helpers/dns-server'
import { parseDsn } from './helpers/dsn'
import { gatewayWithSink } from './helpers/fixtures'
import { testMessage, type TestGateway } from './helpers/gateway'
import { MailSink, type ReceivedMessage } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'
import { addRelayUser, eventually, outboundPluginsWith, submit } from './helpers/outbound-queue'
import { writeQueueFile } from './helpers/queue-file'

const block = addressBlock()

// the Internet: one MX per behaviour
const remotes = {
  flaky: new MailSink({ host: block.ip(10), port: 25, failData: { code: 451, text: '4.3.0 Try again later' } }),
  reject: new MailSink({ host: block.ip(11), port: 25, failData: { code: 550, text: '5.1.1 No such user here' } }),
  rejectPlain: new MailSink({ host: block.ip(12), port: 25, failData: { code: 550, text: 'Mailbox unavailable' } }),
  down: new MailSink({ host: block.ip(13), port: 25, failData: { code: 451, text: '4.4.1 Not now' } }),
  // where a DSN to a sender outside our domains would go if anything sent it there
  elsewhere: new MailSink({ host: block.ip(14), port: 25 }),
}
const dns = new FixtureDns(block.ip(53), 5353)
for (const [domain, sink] of [
  ['flaky.test', remotes.flaky],
  ['reject.test', remotes.reject],
  ['reject-plain.test', remotes.rejectPlain],
  ['down.test', remotes.down],
  ['elsewhere.test', remotes.elsewhere],
] as const) {
  dns.add(domain, { type: 'MX', preference: 10, exchange: `mx.${domain}` }).add(`mx.${domain}`, { type: 'A', data: sink.opts.host })
}

const USER = 'app@example.com'
// a message from outside the accepted domains, queued before the instance starts
const foreign = testMessage({ from: 'someone@elsewhere.test', to: 'x@reject.test', subject: 'foreign' })

const {
  sink: internal,
  gw,
  another,
  startRefused,
} = gatewayWithSink({
  block,
  dns,
  services: Object.values(remotes),
  instances: ['outbound'],
  files: {
    'outbound/config/plugins': outboundPluginsWith('gateway-queue', 'gateway-bounce', 'gateway-tls-policy'),
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
    // two retries 5 s apart, then the message is given up: a lifetime of 10 s
    'outbound/config/outbound.ini': '[main]\ntemp_fail_intervals=5s*2\nreceived_header=disabled\nlocal_mx_ok=true\n',
  },
  prepare: ({ gw }) => {
    addRelayUser(gw, USER)
    writeQueueFile(path.join(gw.root, 'outbound', 'queue'), { from: 'someone@elsewhere.test', to: ['x@reject.test'], message: foreign.text })
  },
})

function queued(g: TestGateway, domain: string): number {
  return listQueue(path.join(g.root, 'outbound', 'queue')).filter((m) => m.todo?.domain === domain).length
}

/** The DSN the internal server received about the message with `marker`. */
async function dsnAbout(marker: string, timeoutMs = 30_000): Promise<ReceivedMessage> {
  return internal.waitForMessage((m) => m.from === '' && m.raw.includes(marker), `a DSN about ${marker}`, { timeoutMs, intervalMs: 100 })
}

function noDsnToTheInternet(): void {
  for (const [name, sink] of Object.entries(remotes)) {
    expect({ name, nullSenderSessions: sink.sessions.filter((s) => s.from === '') }).toEqual({ name, nullSenderSessions: [] })
  }
}

describe('outbound retries', () => {
  it('retries after a 4xx and delivers exactly once', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['someone@flaky.test'] })
    await gw.waitForLog('outbound', /Temp failing \S+ for 5 seconds: Upstream error: 451 4\.3\.0 Try again later/)
    expect(remotes.flaky.messages).toEqual([])
    remotes.flaky.failData = undefined
    gw.flushQueue('outbound')
    await gw.waitForLog('outbound', /delivered file=\S+ domain=flaky\.test/)
    expect(remotes.flaky.messages.filter((m) => m.raw.includes(marker))).toHaveLength(1)
    expect(remotes.flaky.sessions).toHaveLength(2)
    await eventually('no flaky.test left in the queue', () => queued(gw, 'flaky.test') === 0)
    expect(internal.messages.some((m) => m.raw.includes(marker))).toBe(false) // no DSN for a delivered message
  })
})

describe('outbound bounces: RFC 3464 DSN to the internal sender', () => {
  it('turns a 5xx into a multipart/report DSN delivered through the internal server', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['nobody@reject.test'], subject: 'quarterly report' })
    const msg = await dsnAbout(marker)
    expect(msg.to).toEqual([USER])
    const dsn = parseDsn(msg.raw)
    expect(dsn.contentType).toMatch(/^multipart\/report;\s*report-type=delivery-status;/)
    expect(dsn.headers.get('to')).toBe(`<${USER}>`)
    expect(dsn.headers.get('from')).toMatch(/MAILER-DAEMON@/)
    expect(dsn.headers.get('mime-version')).toBe('1.0')
    expect(dsn.headers.get('auto-submitted')).toBe('auto-replied')
    for (const h of ['date', 'message-id', 'subject']) expect(dsn.headers.has(h), h).toBe(true)
    expect(dsn.parts.map((p) => p.headers.get('content-type')?.split(';')[0]?.toLowerCase())).toEqual(['text/plain', 'message/delivery-status', 'text/rfc822-headers'])

    const [perMessage, perRecipient, ...more] = dsn.status
    expect(more).toEqual([])
    expect(perMessage!.get('reporting-mta')).toMatch(/^dns;\s*\S+/)
    expect(perMessage!.has('original-envelope-id')).toBe(false) // no ENVID was given
    expect(perRecipient!.get('final-recipient')).toBe('rfc822;nobody@reject.test')
    expect(perRecipient!.get('action')).toBe('failed')
    expect(perRecipient!.get('status')).toBe('5.1.1')
    expect(perRecipient!.get('remote-mta')).toBe(`dns; ${remotes.reject.opts.host}`)
    expect(perRecipient!.get('diagnostic-code')).toBe('smtp;550 5.1.1 No such user here')
    expect(dsn.parts[2]!.body).toContain(`Message-ID: <${marker}@test.invalid>`)
    // generic text, no software name (the attached original headers are the sender's own)
    expect([...dsn.headers.values(), dsn.parts[0]!.body].join('\n')).not.toMatch(/haraka/i)
    expect(dsn.parts[0]!.body).toContain('Reason: 550 5.1.1 No such user here')
    await eventually('no reject.test left in the queue', () => queued(gw, 'reject.test') === 0)
    noDsnToTheInternet()
  })

  it('gives a Status (5.0.0) when the remote 5xx carried no enhanced code', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['nobody@reject-plain.test'] })
    const dsn = parseDsn((await dsnAbout(marker)).raw)
    expect(dsn.status[1]!.get('action')).toBe('failed')
    expect(dsn.status[1]!.get('status')).toBe('5.0.0')
    expect(dsn.status[1]!.get('diagnostic-code')).toBe('smtp;550 Mailbox unavailable')
  })

  it('bounces when the retries run out (lifetime = sum of temp_fail_intervals)', async () => {
    const marker = await submit(gw, { user: USER, from: USER, to: ['late@down.test'] })
    const dsn = parseDsn((await dsnAbout(marker, 45_000)).raw)
    expect(remotes.down.sessions.filter((s) => s.from === USER).length).toBeGreaterThanOrEqual(3) // first try + 2 retries
    expect(dsn.status[1]!.get('final-recipient')).toBe('rfc822;late@down.test')
    expect(dsn.status[1]!.get('action')).toBe('failed')
    expect(dsn.status[1]!.get('status')).toBe('5.4.1') // the last 4.4.1, now final
    expect(dsn.status[1]!.get('diagnostic-code')).toBe('smtp;451 4.4.1 Not now')
    await eventually('no down.test left in the queue', () => queued(gw, 'down.test') === 0)
    noDsnToTheInternet()
  })

  it('sends no DSN for a sender outside the accepted domains (default: drop, logged)', async () => {
    await gw.waitForLog('outbound', /no DSN: sender someone@elsewhere\.test is outside the accepted domains \(failed: x@reject\.test\)/)
    expect(remotes.reject.sessions.some((s) => s.from === 'someone@elsewhere.test')).toBe(true) // it was tried
    expect(remotes.elsewhere.sessions).toEqual([])
    expect(internal.messages.some((m) => m.raw.includes(foreign.marker))).toBe(false)
    await eventually('no reject.test left in the queue', () => queued(gw, 'reject.test') === 0)
    noDsnToTheInternet()
  })
})

describe('outbound bounces: postmaster for senders outside the accepted domains', () => {
  it('sends their DSN to the configured postmaster through the internal server', async () => {
    const other = another({ files: { 'outbound/config/gateway-bounce.ini': '[foreign_sender]\naction=postmaster\npostmaster=postmaster@example.com\n' } })
    const m = testMessage({ from: 'robot@elsewhere.test', to: 'y@reject.test', subject: 'foreign 2' })
    writeQueueFile(path.join(other.root, 'outbound', 'queue'), { from: 'robot@elsewhere.test', to: ['y@reject.test'], message: m.text })
    await other.start()
    try {
      const msg = await dsnAbout(m.marker)
      expect(msg.to).toEqual(['postmaster@example.com'])
      expect(parseDsn(msg.raw).status[1]!.get('final-recipient')).toBe('rfc822;y@reject.test')
      expect(other.log('outbound')).toMatch(/DSN for robot@elsewhere\.test \(outside the accepted domains\) goes to postmaster@example\.com/)
      expect(remotes.elsewhere.sessions).toEqual([])
    } finally {
      await other.stop()
    }
  })

  it('refuses to start with a postmaster outside the accepted domains', async () => {
    const r = await startRefused('outbound', { files: { 'outbound/config/gateway-bounce.ini': '[foreign_sender]\naction=postmaster\npostmaster=admin@elsewhere.test\n' } })
    expect(r.code).toBe(78)
    expect(r.stderr).toMatch(/gateway-bounce\.ini: \[foreign_sender\] postmaster: "admin@elsewhere\.test" must be an address in an accepted domain/)
  })
})
