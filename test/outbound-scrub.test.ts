// Internal headers never leave for the Internet (gateway-outbound-scrub), over
// real SMTP: an authenticated client relays through the outbound instance to a
// remote MX found by MX lookup, and the test reads what that MX received.

import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { mailDate } from './helpers/content-mail'
import { delivered, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail } from './helpers/gateway'
import { addUser, fieldValues, headerFields, outboundPlugins, relaySession } from './helpers/outbound-relay'

const PASSWORD = 'correct horse battery'

// A stand-in for an outbound check (none ships yet): through the real policy
// framework it tags messages whose Subject says so; gateway-spool then writes
// X-Gateway-Checks and X-Gateway-Tag while queueing, after the scrub's first pass.
const TAGGING_CHECK = `
const { decide } = require(${JSON.stringify(path.join(GATEWAY_ROOT, 'dist/lib/policy/actions.js'))})
const { reply } = require(${JSON.stringify(path.join(GATEWAY_ROOT, 'dist/lib/smtp/reply.js'))})
exports.hook_data_post = function (next, connection) {
  if (/tag me/.test(connection.transaction.header.get('Subject'))) {
    decide(this, connection, { check: 'test-check', result: 'flagged', reply: reply(550, '5.7.1', 'Refused'), tag: 'flagged' }, 'tag')
  }
  next()
}
`

const files = {
  'outbound/config/plugins': outboundPlugins({ scrub: true, dkim: true }).replace('gateway-outbound-scrub\n', 'test-tagging-check\ngateway-outbound-scrub\n'),
  'outbound/plugins/test-tagging-check.js': TAGGING_CHECK,
  'outbound/config/gateway-outbound-scrub.ini': '[main]\nstrip[]=X-Originating-IP\nstrip_prefix[]=X-Internal-\n',
  'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
}
const { block, internal, remoteMx, gw, startRefused } = outboundWithPartnerMx({ files, prepare: ({ gw }) => addUser(gw, 'app@example.com', PASSWORD) })

let n = 0
/** A message as an internal mail server relays it: its trace fields on top, then the rest. */
async function relay(to: string[], trace: string[], headers: string[], subject = 'quarterly figures') {
  const marker = `scrub-${process.pid}-${++n}-${Date.now()}`
  const text = [
    ...trace,
    'From: App <app@example.com>',
    `To: <${to[0]}>`,
    `Subject: ${subject}`,
    `Message-ID: <${marker}@example.com>`,
    `Date: ${mailDate()}`,
    ...headers,
    '',
    `Body ${marker}`,
    '',
  ].join('\r\n')
  const client = await relaySession(gw, 'app@example.com', PASSWORD)
  const r = await sendMail(client, { from: 'app@example.com', to }, text)
  await client.quit()
  return { end: r.end, marker }
}

const INTERNAL_TRACE = [
  'Received: from exch01.corp.example (10.20.30.41) by exch02.corp.example (10.20.30.42)',
  ' with Microsoft SMTP Server id 15.1.225.42; Fri, 27 Nov 2026 11:59:58 +0000',
  'Received: from ws12.corp.example (ws12.corp.example [10.20.30.40])',
  '\tby exch01.corp.example (Postfix) with ESMTP id 4711; Fri, 27 Nov 2026 11:59:57 +0000',
]

describe('outbound: internal headers are removed before the Internet', () => {
  it('removes X-Gateway-*, configured names and prefixes (any case, folding or syntax) and every internal Received hop; the rest is intact', async () => {
    const { end, marker } = await relay(['someone@partner.test', 'colleague@example.com'], INTERNAL_TRACE, [
      'X-Gateway-Checks: spam=scl_1 (accept)',
      'X-Gateway-SCL : 1',
      'x-gateway-tag: spam: folded',
      '\tcontinuation',
      'X-Internal-Route: core-7',
      'x-originating-ip: [10.20.30.40]',
      'X-Mailer: Report Generator 2.1',
      'List-Unsubscribe: <mailto:unsub@example.com>',
      'X-Keep: internal-looking words are fine in other fields',
    ])
    expect([end?.code, end?.enhanced]).toEqual([250, '2.0.0'])

    for (const copy of [await delivered(remoteMx, marker), await delivered(internal, marker)]) {
      // one header for all recipients: the copy that stays inside is scrubbed as well
      const head = headerFields(copy.raw)
      expect(head.filter((f) => /^(x-gateway-|x-internal-|x-originating-ip|received)/i.test(f))).toEqual([])
      expect(head.join('\n')).not.toMatch(/10\.20\.30\.|corp\.example|continuation/)
      expect(head.join('\n')).not.toContain(block.ip(1).slice(0, 4)) // no loopback client address of our own hop
      expect(fieldValues(copy.raw, 'From')).toEqual(['App <app@example.com>'])
      expect(fieldValues(copy.raw, 'Subject')).toEqual(['quarterly figures'])
      expect(fieldValues(copy.raw, 'X-Mailer')).toEqual(['Report Generator 2.1'])
      expect(fieldValues(copy.raw, 'List-Unsubscribe')).toEqual(['<mailto:unsub@example.com>'])
      expect(fieldValues(copy.raw, 'X-Keep')).toEqual(['internal-looking words are fine in other fields'])
      expect(copy.raw).toContain(`\r\n\r\nBody ${marker}\r\n`)
    }
    // our own hop named the client's HELO (app1.corp.example): it is gone too
    expect((await delivered(remoteMx, marker)).raw).not.toContain('app1.corp.example')
    await gw.waitForLog('outbound', /\[gateway-outbound-scrub\] removed 8 internal header field\(s\) at queue_outbound: received, x-gateway-checks, x-gateway-scl, x-gateway-tag, x-internal-route, x-originating-ip \(3 Received\)/)
  })

  it('keeps the Internet trace of a forwarded message: stripping stops at the hop where it came in', async () => {
    const { end, marker } = await relay(
      ['someone@partner.test'],
      [
        'Received: from gw.example.com (10.20.30.5) by exch01.corp.example (10.20.30.41); Fri, 27 Nov 2026 11:59:58 +0000',
        'Received: from mx.sender.example (mx.sender.example [198.51.100.7])',
        '\tby gw.example.com (Haraka) with ESMTPS id 1; Fri, 27 Nov 2026 11:59:50 +0000',
        'Received: from ws.sender.example ([10.8.8.8]) by mx.sender.example; Fri, 27 Nov 2026 11:59:40 +0000',
      ],
      [],
    )
    expect(end?.code).toBe(250)
    const received = fieldValues((await delivered(remoteMx, marker)).raw, 'Received')
    expect(received).toEqual([
      'from mx.sender.example (mx.sender.example [198.51.100.7]) by gw.example.com (Haraka) with ESMTPS id 1; Fri, 27 Nov 2026 11:59:50 +0000',
      'from ws.sender.example ([10.8.8.8]) by mx.sender.example; Fri, 27 Nov 2026 11:59:40 +0000',
    ])
  })

  it('also removes the X-Gateway-* marks gateway-spool writes while queueing (second pass, before signing)', async () => {
    const { end, marker } = await relay(['someone@partner.test'], [], [], 'please tag me')
    expect([end?.code, end?.enhanced]).toEqual([250, '2.0.0'])
    const msg = await delivered(remoteMx, marker)
    expect(headerFields(msg.raw).filter((f) => /^x-gateway-/i.test(f))).toEqual([])
    expect(fieldValues(msg.raw, 'Subject')).toEqual(['please tag me'])
    // the decision was made and written (then removed): the check really ran
    await gw.waitForLog('outbound', /decision check=test-check result=flagged action=tag/)
    await gw.waitForLog('outbound', /\[gateway-outbound-scrub\] removed 2 internal header field\(s\) at pre_send_trans_email: x-gateway-checks, x-gateway-tag\n/)
  })

  it('leaves mail that stays inside alone (all recipients in accepted domains)', async () => {
    const { end, marker } = await relay(['colleague@example.com'], INTERNAL_TRACE, ['X-Internal-Route: core-7', 'X-Gateway-Checks: spam=scl_1 (accept)'])
    expect(end?.code).toBe(250)
    const msg = await delivered(internal, marker)
    expect(fieldValues(msg.raw, 'X-Internal-Route')).toEqual(['core-7'])
    expect(fieldValues(msg.raw, 'X-Gateway-Checks')).toEqual(['spam=scl_1 (accept)'])
    expect(fieldValues(msg.raw, 'Received')).toHaveLength(3) // ours and the two internal hops
    expect(remoteMx.messages.some((m) => m.raw.includes(marker))).toBe(false)
  })
})

describe('outbound: scrub and DKIM configuration is checked at startup', () => {
  it('refuses dkim listed before gateway-spool (it would sign before the header is final)', async () => {
    const plugins = outboundPlugins({ scrub: true })
      .split('\n')
      .flatMap((l) => (l.trim() === 'gateway-outbound-scrub' ? ['dkim', l] : [l]))
      .join('\n')
    const r = await startRefused('outbound', { files: { 'outbound/config/plugins': plugins } })
    expect(r.code).toBe(78)
    expect(r.stderr).toMatch(/configuration error: \S*outbound\/config\/plugins:\d+: gateway-outbound-scrub: must come before dkim \(line \d+\): haraka-plugin-dkim must sign the header as scrubbed/)
  })

  it('refuses to load on the inbound instance, and refuses unknown strip_received values', async () => {
    const [a, b] = await Promise.all([
      startRefused('inbound', { files: { 'inbound/config/plugins': 'gateway-core\ngateway-outbound-scrub\ngateway-accepted-domains\ngateway-spool\n' } }),
      startRefused('outbound', { files: { 'outbound/config/gateway-outbound-scrub.ini': '[main]\nstrip_received=some\n' } }),
    ])
    expect(a.code).toBe(78)
    expect(a.stderr).toMatch(/inbound\/config\/plugins:2: gateway-outbound-scrub: runs in the outbound instance only: remove it from the inbound instance/)
    expect(b.code).toBe(78)
    expect(b.stderr).toMatch(/gateway-outbound-scrub\.ini:2: \[main\] strip_received: "some" is not one of: internal, all, none/)
  })
})
