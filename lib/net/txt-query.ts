// One DNS TXT question over UDP that also returns how long the answer may be kept.
//
// Why not Node's resolver: dns.resolveTxt gives the records without their TTL, and
// Node turns c-ares' own answer cache off, so SPF, DKIM and DMARC would ask the
// network again for every message. The wire format is dns-packet's (a well-kept
// parser); only the exchange is here: one datagram per server, the reply matched
// by id and question. Anything out of the ordinary (a truncated answer that needs
// TCP, SERVFAIL, a reply that does not parse) is not handled here: the caller
// asks Node's resolver instead, which does all of that, uncached.

import dgram from 'node:dgram'
import { randomInt } from 'node:crypto'
import net from 'node:net'

import * as packet from 'dns-packet'

export type TxtAnswer =
  /** The records (each a list of strings, as Node's resolveTxt gives them) and their smallest TTL. */
  | { kind: 'records'; records: string[][]; ttl: number }
  /** NXDOMAIN or no TXT at the name; ttl from the SOA (RFC 2308), undefined when the reply had none. */
  | { kind: 'nxdomain' | 'nodata'; ttl: number | undefined }
  /** Not an answer this module handles (truncated, SERVFAIL, REFUSED, ...): ask Node's resolver. */
  | { kind: 'other'; why: string }

const NXDOMAIN = 3

/** Splits "host:port", "[v6]:port", "v6" or "host" (Node's getServers() forms). */
export function serverAddress(server: string): { host: string; port: number } {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(server)
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) }
  if (net.isIPv6(server)) return { host: server, port: 53 }
  const i = server.lastIndexOf(':')
  return i > 0 ? { host: server.slice(0, i), port: Number(server.slice(i + 1)) } : { host: server, port: 53 }
}

/** Asks `server` for the TXT records of `name`; rejects with code ETIMEOUT after `timeoutMs`. */
export function queryTxt(name: string, server: string, timeoutMs: number): Promise<TxtAnswer> {
  const { host, port } = serverAddress(server)
  const id = randomInt(0, 65536)
  const query = packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type: 'TXT', name, class: 'IN' }] })
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4')
  return new Promise<TxtAnswer>((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer)
      socket.close()
      fn()
    }
    const timer = setTimeout(() => done(() => reject(Object.assign(new Error(`queryTxt ETIMEOUT ${name}`), { code: 'ETIMEOUT', hostname: name }))), timeoutMs)
    socket.on('error', (err) => done(() => reject(err)))
    socket.on('message', (msg) => {
      let reply: packet.Packet
      try {
        reply = packet.decode(msg)
      } catch {
        return // not a DNS reply: keep waiting for the real one (or the timeout)
      }
      const q = reply.questions?.[0]
      if (reply.id !== id || reply.type !== 'response' || !q || q.name.toLowerCase() !== name.toLowerCase() || q.type !== 'TXT') return
      done(() => resolve(interpret(reply)))
    })
    socket.send(query, port, host)
  })
}

function interpret(reply: packet.Packet): TxtAnswer {
  const flags = reply.flags ?? 0
  if (flags & packet.TRUNCATED_RESPONSE) return { kind: 'other', why: 'truncated' }
  const rcode = flags & 0xf
  if (rcode === NXDOMAIN) return { kind: 'nxdomain', ttl: negativeTtl(reply) }
  if (rcode !== 0) return { kind: 'other', why: `rcode ${rcode}` }
  const answers = reply.answers ?? []
  const txt = answers.filter((a): a is packet.TxtAnswer => a.type === 'TXT')
  if (txt.length === 0) return { kind: 'nodata', ttl: negativeTtl(reply) }
  // the smallest TTL in the chain (a CNAME before the TXT expires too)
  const ttl = Math.min(...answers.map((a) => ('ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0)))
  const records = txt.map((a) => (Array.isArray(a.data) ? a.data : [a.data]).map((d) => (typeof d === 'string' ? d : Buffer.from(d).toString('utf8'))))
  return { kind: 'records', records, ttl }
}

/** RFC 2308 section 5: a negative answer lives min(SOA TTL, SOA MINIMUM). */
function negativeTtl(reply: packet.Packet): number | undefined {
  const soa = (reply.authorities ?? []).find((a): a is packet.Answer & { type: 'SOA'; ttl?: number; data: { minimum: number } } => a.type === 'SOA')
  if (!soa) return undefined
  return Math.min(soa.ttl ?? 0, soa.data.minimum)
}
