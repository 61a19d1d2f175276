// Unit tests: which header fields the outbound scrub removes, on Haraka's own Header class.

import { describe, expect, it } from 'vitest'

import { NetworkList } from '../net/address'
import { applyScrub, planScrub, type MutableHeader, type ReceivedMode, type ScrubRules } from './scrub'

// the Header class Haraka's transactions use
const { Header } = require('haraka-email-message') as {
  Header: new () => MutableHeader & { parse(lines: string[]): void; get_all(n: string): readonly string[]; add(n: string, v: string): void }
}

function headerOf(lines: string[]) {
  const h = new Header()
  h.parse(lines.map((l) => `${l}\n`))
  return h
}

const nets = new NetworkList(['10.0.0.0/8', '127.0.0.0/8'])
function rules(received: ReceivedMode, extra: Partial<ScrubRules> = {}): ScrubRules {
  return { names: new Set(['x-originating-ip']), prefixes: ['x-internal-'], received, isInternal: (ip) => nets.contains(ip), ...extra }
}

// A message an internal server relays: our own hop on top, two internal hops, then
// the hop where it once came in from the Internet (it is being forwarded), then the
// Internet's own trace.
const FORWARDED = [
  'Received: from exch02.corp (exch02.corp [10.0.0.9])',
  '\tby relay.example.com (Haraka) with ESMTPSA id 1; Fri, 27 Nov 2026',
  'X-MS-Has-Attach: yes',
  'Received: from exch01.corp (10.0.0.5) by exch02.corp (10.0.0.9) with Microsoft SMTP Server id 15.1.225.42; Fri, 27 Nov 2026',
  'Received: from gw.example.com (10.0.0.2) by exch01.corp (10.0.0.5); Fri, 27 Nov 2026',
  'Received: from mx.sender.example (mx.sender.example [198.51.100.7])',
  '\tby gw.example.com (Haraka) with ESMTPS id 0; Fri, 27 Nov 2026',
  'Received: from ws.sender.example ([10.8.8.8]) by mx.sender.example; Fri, 27 Nov 2026',
  'X-Gateway-Checks: spam=scl_1 (accept)',
  'X-Gateway-SCL : 1',
  'x-internal-route: a',
  'X-Originating-IP: [10.3.3.3]',
  'Subject: hello',
  'X-Internal: not a prefix match',
]

describe('planScrub', () => {
  it('internal: removes our own and the internal hops, keeps the Internet trace below the entry hop', () => {
    const h = headerOf(FORWARDED)
    const plan = planScrub(h.header_list, rules('internal'))
    expect(plan.received).toBe(3)
    expect(plan.names).toEqual(['received', 'x-gateway-checks', 'x-gateway-scl', 'x-internal-route', 'x-originating-ip'])
    applyScrub(h, plan)
    expect(h.header_list.map((l) => l.split(/\s/)[0])).toEqual(['X-MS-Has-Attach:', 'Received:', 'Received:', 'Subject:', 'X-Internal:'])
    expect(h.get_all('Received').map((v) => /by ([\w.]+)/.exec(v)![1])).toEqual(['gw.example.com', 'mx.sender.example'])
    expect(h.get_all('X-Gateway-Checks')).toEqual([])
    expect(h.headers_decoded.received).toHaveLength(2)
    expect(h.get_all('Subject')).toHaveLength(1)
  })

  it('all: removes every Received field; none: keeps them all', () => {
    const all = headerOf(FORWARDED)
    applyScrub(all, planScrub(all.header_list, rules('all')))
    expect(all.get_all('Received')).toEqual([])
    expect(all.header_list.some((l) => /^received/i.test(l))).toBe(false)
    const none = headerOf(FORWARDED)
    const plan = planScrub(none.header_list, rules('none'))
    expect(plan.received).toBe(0)
    applyScrub(none, plan)
    expect(none.get_all('Received')).toHaveLength(5)
  })

  it('internal: mail that never left the organisation loses every hop', () => {
    const h = headerOf(['Received: from app1 ([10.1.1.1]) by relay.example.com', 'Received: by webmail.corp with HTTP; x', 'Subject: s'])
    expect(planScrub(h.header_list, rules('internal')).received).toBe(2)
  })

  it('internal: stops at the first hop from outside, even if internal-looking hops follow', () => {
    const h = headerOf(['Received: from client (client [203.0.113.5]) by relay', 'Received: from ws ([10.1.1.1]) by client'])
    expect(planScrub(h.header_list, rules('internal')).received).toBe(0)
  })

  it('counts internal networks through the predicate it is given (e.g. a public range used inside)', () => {
    const h = headerOf(['Received: from client (client [203.0.113.5]) by relay'])
    expect(planScrub(h.header_list, rules('internal', { isInternal: () => true })).received).toBe(1)
  })

  it('removes nothing from an ordinary message', () => {
    const h = headerOf(['From: a@example.com', 'To: b@partner.test', 'Subject: s', 'X-Mailer: m'])
    expect(planScrub(h.header_list, rules('internal')).remove).toEqual([])
  })
})

describe('applyScrub', () => {
  it('keeps values added through Haraka\'s API and the parsed view in step', () => {
    const h = headerOf(['Subject: s', 'X-Gateway-Tag: a'])
    h.add('X-Gateway-Tag', 'b') // added on top, as Haraka's add_leading_header does
    applyScrub(h, planScrub(h.header_list, rules('none')))
    expect(h.header_list).toEqual(['Subject: s\n'])
    expect('x-gateway-tag' in h.headers).toBe(false)
    expect('x-gateway-tag' in h.headers_decoded).toBe(false)
  })
})
