// Parsing and matching of the network addresses operators write in config:
// host:port endpoints and CIDR networks.

import net from 'node:net'
import os from 'node:os'

import { memoize } from '../cache/memo'

export interface HostPort {
  readonly host: string
  readonly port: number
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i

/** "host:port", "[v6]:port" or "host" (then `defaultPort`). Throws a plain message on error. */
export function parseHostPort(text: string, defaultPort?: number): HostPort {
  const s = text.trim()
  let host: string
  let portText: string | undefined
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s)
  if (v6) {
    host = v6[1]!
    portText = v6[2]
    if (!net.isIPv6(host)) throw new Error(`"${text}" is not a valid IPv6 address`)
  } else {
    const parts = s.split(':')
    if (parts.length > 2) throw new Error(`"${text}" is ambiguous: write IPv6 addresses as [addr]:port`)
    host = parts[0]!
    portText = parts[1]
    // an all-numeric last label is a mistyped IPv4 address, not a host name
    const numericTld = /(^|\.)\d+\.?$/.test(host)
    if (!net.isIPv4(host) && (!HOSTNAME.test(host) || numericTld)) throw new Error(`"${text}" is not host:port`)
  }
  if (portText === undefined) {
    if (defaultPort === undefined) throw new Error(`"${text}" has no port (expected host:port)`)
    return { host, port: defaultPort }
  }
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new Error(`"${text}" has an invalid port`)
  return { host, port }
}

export function formatHostPort(hp: HostPort): string {
  return net.isIPv6(hp.host) ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`
}

/** Strips the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip
}

/** A set of networks, e.g. the internal servers allowed to use the outbound relay. */
export class NetworkList {
  private readonly list = new net.BlockList()
  readonly entries: readonly string[]

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parts = cidr.split('/')
      if (parts.length > 2) throw new Error(`"${cidr}" is not an IP address or CIDR network`)
      const [addr, bitsText] = parts
      const type = net.isIPv4(addr!) ? 'ipv4' : net.isIPv6(addr!) ? 'ipv6' : null
      if (!type) throw new Error(`"${cidr}" is not an IP address or CIDR network`)
      const max = type === 'ipv4' ? 32 : 128
      const bits = bitsText === undefined ? max : Number(bitsText)
      if (!/^\d+$/.test(bitsText ?? String(max)) || bits > max) throw new Error(`"${cidr}" has an invalid prefix length`)
      this.list.addSubnet(addr!, bits, type)
    }
    this.entries = [...cidrs]
  }

  contains(ip: string): boolean {
    // BlockList.check builds a SocketAddress for every call: an empty list (the shipped
    // exempt networks) answers without it, and one client's connection asks twice
    return this.entries.length > 0 && this.check(ip)
  }

  private readonly check = memoize((ip: string): boolean => {
    const addr = normalizeIp(ip)
    const type = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : null
    return type !== null && this.list.check(addr, type)
  }, 4096)
}

/**
 * Whether this host can use `ip` as a source address: one of its interface
 * addresses, or any loopback address (Linux answers for all of 127.0.0.0/8).
 */
export function isLocalAddress(ip: string): boolean {
  if (net.isIPv4(ip) && ip.startsWith('127.')) return true
  return Object.values(os.networkInterfaces()).some((addrs) => addrs?.some((a) => a.address === ip))
}
