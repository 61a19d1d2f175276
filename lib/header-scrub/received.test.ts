// Unit tests: reading Received fields and telling internal hops from the Internet entry hop.

import { describe, expect, it } from 'vitest'

import { NetworkList } from '../net/address'
import { fromClauseAddresses, isInternalHop } from './received'

const privateNets = new NetworkList(['10.0.0.0/8', '192.168.0.0/16', '127.0.0.0/8', 'fc00::/7', 'fe80::/10'])
const internal = (ip: string) => privateNets.contains(ip)

describe('fromClauseAddresses', () => {
  it('reads the address of the usual MTA formats, not those of the "by" clause', () => {
    // Haraka / Postfix / sendmail
    expect(fromClauseAddresses(' from ws.corp.example (ws.corp.example [10.1.2.3])\r\n\tby relay.example.com (Haraka) with ESMTPSA id X;\r\n\tFri, 27 Nov 2026 12:00:00 +0000\n')).toEqual(['10.1.2.3'])
    // Exchange: bare address in the comment; its build number after "id" looks like an IPv4 address
    expect(fromClauseAddresses('from EXCH01.corp.local (10.1.2.3) by EXCH02.corp.local (10.1.2.4) with Microsoft SMTP Server id 15.1.225.42; Fri, 27 Nov 2026')).toEqual(['10.1.2.3'])
    // IPv6 literals, zone ids, Exim's address:port
    expect(fromClauseAddresses('from [IPv6:2001:db8::1] (helo=ws) by mx; x')).toEqual(['2001:db8::1'])
    expect(fromClauseAddresses('from EXCH01 ([fe80::1%12]) by EXCH01 ([fe80::1%12]) with mapi')).toEqual(['fe80::1'])
    expect(fromClauseAddresses('from ws ([192.168.1.9]:51234 helo=ws) by mx with esmtpsa (Exim 4.96)')).toEqual(['192.168.1.9'])
    expect(fromClauseAddresses('from unknown (HELO ws) (10.9.8.7) by mx with SMTP; x')).toEqual(['10.9.8.7'])
  })

  it('does not end the clause at a "by" inside a comment', () => {
    expect(fromClauseAddresses('from a (sent by b [10.0.0.1]) by c (203.0.113.9)')).toEqual(['10.0.0.1'])
  })

  it('is null without a from clause, empty when the clause names no address', () => {
    expect(fromClauseAddresses('by mail.corp.example with HTTP; Fri, 27 Nov 2026')).toBeNull()
    expect(fromClauseAddresses('(qmail 4711 invoked by uid 89); Fri, 27 Nov 2026')).toBeNull()
    expect(fromClauseAddresses('from mail.corp.example by relay with SMTP')).toEqual([])
  })
})

describe('isInternalHop', () => {
  it('is internal when every address of the from clause is internal', () => {
    expect(isInternalHop('from ws (ws [10.1.2.3]) by relay', internal)).toBe(true)
    expect(isInternalHop('from [10.0.0.1] (unknown [203.0.113.9]) by mx', internal)).toBe(false) // a forged HELO literal does not make it internal
    expect(isInternalHop('from mx.sender.example (mx.sender.example [198.51.100.7]) by mx.example.com', internal)).toBe(false)
  })

  it('a hop without a from clause was made inside; a from clause without an address proves nothing', () => {
    expect(isInternalHop('by webmail.corp.example with HTTP; x', internal)).toBe(true)
    expect(isInternalHop('from somewhere by relay; x', internal)).toBe(false)
  })
})
