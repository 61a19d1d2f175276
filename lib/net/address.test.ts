// Unit tests for host:port parsing/formatting, IPv4-mapped address normalisation, NetworkList and isLocalAddress.
import os from 'node:os'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { NetworkList, formatHostPort, isLocalAddress, normalizeIp, parseHostPort } from './address'

describe('parseHostPort', () => {
  it('refuses mistyped IPv4 addresses instead of taking them for host names', () => {
    expect(() => parseHostPort('256.300.1.1:25')).toThrow('is not host:port')
    expect(() => parseHostPort('1.2.3:25')).toThrow('is not host:port')
  })

  it('parses IPv4 with a port', () => {
    expect(parseHostPort('10.0.0.1:25')).toEqual({ host: '10.0.0.1', port: 25 })
  })

  it('parses hostnames, with or without a trailing dot', () => {
    expect(parseHostPort('mx1.example.com:2525')).toEqual({ host: 'mx1.example.com', port: 2525 })
    expect(parseHostPort('localhost:25')).toEqual({ host: 'localhost', port: 25 })
    expect(parseHostPort('MX.Example.com.:25')).toEqual({ host: 'MX.Example.com.', port: 25 })
  })

  it('parses [IPv6]:port and [IPv6]', () => {
    expect(parseHostPort('[::1]:587')).toEqual({ host: '::1', port: 587 })
    expect(parseHostPort('[2001:db8::1]', 25)).toEqual({ host: '2001:db8::1', port: 25 })
  })

  it('trims surrounding whitespace', () => {
    expect(parseHostPort('  10.0.0.1:25 \t')).toEqual({ host: '10.0.0.1', port: 25 })
  })

  it('uses the default port when none is written', () => {
    expect(parseHostPort('10.0.0.1', 25)).toEqual({ host: '10.0.0.1', port: 25 })
    expect(parseHostPort('mx.example', 587)).toEqual({ host: 'mx.example', port: 587 })
  })

  it('needs a port when there is no default', () => {
    expect(() => parseHostPort('10.0.0.1')).toThrow('"10.0.0.1" has no port (expected host:port)')
    expect(() => parseHostPort('[::1]')).toThrow('"[::1]" has no port (expected host:port)')
  })

  it('accepts the port range 1..65535', () => {
    expect(parseHostPort('h.example:1').port).toBe(1)
    expect(parseHostPort('h.example:65535').port).toBe(65535)
  })

  it.each(['h.example:0', 'h.example:70000', 'h.example:65536', 'h.example:x', 'h.example:', 'h.example:-1', 'h.example:2.5', '[::1]:0', '[::1]:99999'])(
    'rejects the port of %j',
    (text) => {
      expect(() => parseHostPort(text, 25)).toThrow(`"${text}" has an invalid port`)
    },
  )

  it('rejects a bare IPv6 address as ambiguous', () => {
    expect(() => parseHostPort('::1', 25)).toThrow('"::1" is ambiguous: write IPv6 addresses as [addr]:port')
    expect(() => parseHostPort('2001:db8::1:25')).toThrow('is ambiguous')
  })

  it('rejects brackets around something that is not IPv6', () => {
    expect(() => parseHostPort('[10.0.0.1]:25')).toThrow('"[10.0.0.1]:25" is not a valid IPv6 address')
    expect(() => parseHostPort('[nope]:25')).toThrow('is not a valid IPv6 address')
  })

  it.each(['', ':25', 'under_score.example:25', 'sp ace:25', '-lead.example:25', 'a..b:25'])(
    'rejects the host of %j',
    (text) => {
      expect(() => parseHostPort(text)).toThrow(`"${text}" is not host:port`)
    },
  )
})

describe('formatHostPort', () => {
  it('brackets IPv6 and leaves IPv4 and names alone', () => {
    expect(formatHostPort({ host: '10.0.0.1', port: 25 })).toBe('10.0.0.1:25')
    expect(formatHostPort({ host: 'mx.example', port: 587 })).toBe('mx.example:587')
    expect(formatHostPort({ host: '::1', port: 25 })).toBe('[::1]:25')
  })

  it('round-trips with parseHostPort', () => {
    for (const text of ['10.0.0.1:25', '[2001:db8::5]:2525', 'mx.example:587']) {
      expect(formatHostPort(parseHostPort(text))).toBe(text)
    }
  })
})

describe('normalizeIp', () => {
  it('strips the ::ffff: prefix of IPv4-mapped addresses', () => {
    expect(normalizeIp('::ffff:192.0.2.10')).toBe('192.0.2.10')
  })

  it('leaves plain IPv4 and real IPv6 alone', () => {
    expect(normalizeIp('192.0.2.10')).toBe('192.0.2.10')
    expect(normalizeIp('::1')).toBe('::1')
    expect(normalizeIp('2001:db8::1')).toBe('2001:db8::1')
    // ::ffff: followed by something that is not IPv4
    expect(normalizeIp('::ffff:abcd')).toBe('::ffff:abcd')
  })
})

describe('NetworkList', () => {
  it('refuses a network with more than one slash', () => {
    expect(() => new NetworkList(['10.0.0.0/8/garbage'])).toThrow('is not an IP address or CIDR network')
  })

  it('matches IPv4 addresses inside its networks', () => {
    const list = new NetworkList(['10.0.0.0/8', '192.168.1.0/24'])
    expect(list.contains('10.255.0.1')).toBe(true)
    expect(list.contains('192.168.1.200')).toBe(true)
    expect(list.contains('192.168.2.1')).toBe(false)
    expect(list.contains('11.0.0.1')).toBe(false)
  })

  it('treats a bare address as a single host (/32 or /128)', () => {
    const list = new NetworkList(['192.0.2.7', '2001:db8::7'])
    expect(list.contains('192.0.2.7')).toBe(true)
    expect(list.contains('192.0.2.8')).toBe(false)
    expect(list.contains('2001:db8::7')).toBe(true)
    expect(list.contains('2001:db8::8')).toBe(false)
  })

  it('matches IPv6 networks', () => {
    const list = new NetworkList(['2001:db8::/32'])
    expect(list.contains('2001:db8:1::1')).toBe(true)
    expect(list.contains('2001:db9::1')).toBe(false)
  })

  it('matches ::ffff:-mapped IPv4 addresses against IPv4 networks', () => {
    const list = new NetworkList(['10.0.0.0/8'])
    expect(list.contains('::ffff:10.1.2.3')).toBe(true)
    expect(list.contains('::ffff:11.1.2.3')).toBe(false)
  })

  it('gives the same answers from its memory of recent addresses, also once it had to forget older ones', () => {
    const list = new NetworkList(['10.0.0.0/8'])
    for (let round = 0; round < 2; round++) {
      expect(list.contains('10.1.2.3')).toBe(true)
      expect(list.contains('11.1.2.3')).toBe(false)
      expect(list.contains('__proto__')).toBe(false)
    }
    for (let i = 0; i < 10_000; i++) list.contains(`11.0.${i >> 8}.${i & 255}`)
    expect(list.contains('10.1.2.3')).toBe(true)
    expect(new NetworkList([]).contains('10.1.2.3')).toBe(false)
  })

  it('accepts /0 and full-length prefixes', () => {
    expect(new NetworkList(['0.0.0.0/0']).contains('203.0.113.1')).toBe(true)
    expect(new NetworkList(['10.0.0.1/32']).contains('10.0.0.1')).toBe(true)
    expect(new NetworkList(['::1/128']).contains('::1')).toBe(true)
  })

  it('never matches something that is not an IP address', () => {
    const list = new NetworkList(['0.0.0.0/0', '::/0'])
    expect(list.contains('not-an-ip')).toBe(false)
    expect(list.contains('')).toBe(false)
  })

  it('an empty list matches nothing', () => {
    const list = new NetworkList([])
    expect(list.entries).toEqual([])
    expect(list.contains('127.0.0.1')).toBe(false)
  })

  it('keeps a copy of its entries', () => {
    const cidrs = ['10.0.0.0/8']
    const list = new NetworkList(cidrs)
    cidrs.push('192.168.0.0/16')
    expect(list.entries).toEqual(['10.0.0.0/8'])
  })

  it.each(['example.com', '10.0.0/8', '300.0.0.0/8', '', '/8'])('rejects %j as not an address', (cidr) => {
    expect(() => new NetworkList([cidr])).toThrow(`"${cidr}" is not an IP address or CIDR network`)
  })

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', '10.0.0.0/-1', '10.0.0.0/8.5', '::/129'])(
    'rejects %j as having an invalid prefix length',
    (cidr) => {
      expect(() => new NetworkList([cidr])).toThrow(`"${cidr}" has an invalid prefix length`)
    },
  )
})

describe('isLocalAddress', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  function fakeInterfaces(): void {
    vi.spyOn(os, 'networkInterfaces').mockReturnValue({
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
      eth0: [
        { address: '198.51.100.20', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '198.51.100.20/24' },
        { address: '2001:db8::20', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: '2001:db8::20/64', scopeid: 0 },
      ],
    })
  }

  it('counts every 127.x.y.z address as local', () => {
    fakeInterfaces()
    expect(isLocalAddress('127.0.0.1')).toBe(true)
    expect(isLocalAddress('127.1.2.3')).toBe(true)
  })

  it('counts the addresses of the interfaces as local', () => {
    fakeInterfaces()
    expect(isLocalAddress('198.51.100.20')).toBe(true)
    expect(isLocalAddress('2001:db8::20')).toBe(true)
  })

  it('does not count other addresses', () => {
    fakeInterfaces()
    expect(isLocalAddress('198.51.100.21')).toBe(false)
    expect(isLocalAddress('203.0.113.9')).toBe(false)
    expect(isLocalAddress('2001:db8::21')).toBe(false)
  })

  it('works with the real interfaces of this host', () => {
    expect(isLocalAddress('127.0.0.1')).toBe(true)
    // TEST-NET-3 is reserved for documentation and never assigned
    expect(isLocalAddress('203.0.113.254')).toBe(false)
  })
})
