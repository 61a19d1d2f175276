// One DNS question over UDP that also returns how long the answer may be kept:
// TXT (SPF, DKIM keys, DMARC), and MX, A, AAAA (the delivery queue's routes).
//
// Why not Node's resolver: its answers come without their TTL (resolveTxt and
// resolveMx never give one), and Node turns c-ares' own answer cache off, so every
// message would ask the network again. The wire format is dns-packet's (a
// well-kept parser); only the exchange is here: one datagram per server, the
// reply matched by id and question. Anything out of the ordinary (a truncated
// answer that needs TCP, SERVFAIL, a reply that does not parse) is not handled
// here: the caller asks Node's resolver instead, which does all of that, uncached.

import dgram from 'node:dgram'
import { randomInt } from 'node:crypto'
import net from 'node:net'

import * as packet from 'dns-packet'

export type RecordType = 'TXT' | 'MX' | 'A' | 'AAAA'

/** Each record as Node's resolver gives it (resolveTxt, resolveMx, resolve4, resolve6). */
export interface RecordShapes {
  TXT: string[]
  MX: { exchange: string; priority: number }
  A: string
  AAAA: string
}

export type DnsAnswer<T> =
  /** The records and the smallest TTL of the answer (a CNAME before them expires too). */
  | { kind: 'records'; records: T[]; ttl: number }
  /** NXDOMAIN or no record of the type at the name; ttl from the SOA (RFC 2308), undefined when the reply had none. */
  | { kind: 'nxdomain' | 'nodata'; ttl: number | undefined }
  /** Not an answer this module handles (truncated, SERVFAIL, REFUSED, ...): ask Node's resolver. */
  | { kind: 'other'; why: string }

export type TxtAnswer = DnsAnswer<string[]>

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
  return queryDns(name, 'TXT', server, timeoutMs)
}

/** Asks `server` for the `type` records of `name`; rejects with code ETIMEOUT after `timeoutMs`. */
export function queryDns<K extends RecordType>(name: string, type: K, server: string, timeoutMs: number): Promise<DnsAnswer<RecordShapes[K]>> {
  const { host, port } = serverAddress(server)
  const id = randomInt(0, 65536)
  const query = packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] })
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4')
  return new Promise<DnsAnswer<RecordShapes[K]>>((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer)
      socket.close()
      fn()
    }
    const timer = setTimeout(() => done(() => reject(Object.assign(new Error(`query${syscallType(type)} ETIMEOUT ${name}`), { code: 'ETIMEOUT', hostname: name }))), timeoutMs)
    socket.on('error', (err) => done(() => reject(err)))
    socket.on('message', (msg) => {
      let reply: packet.Packet
      try {
        reply = packet.decode(msg)
      } catch {
        return // not a DNS reply: keep waiting for the real one (or the timeout)
      }
      const q = reply.questions?.[0]
      if (reply.id !== id || reply.type !== 'response' || !q || q.name.toLowerCase() !== name.toLowerCase() || q.type !== type) return
      done(() => resolve(interpret(reply, type)))
    })
    socket.send(query, port, host)
  })
}

/** The name Node's errors use after "query": queryTxt, queryMx, queryA, queryAaaa. */
export function syscallType(type: RecordType): string {
  return type === 'AAAA' ? 'Aaaa' : type === 'A' ? 'A' : type[0] + type.slice(1).toLowerCase()
}

function interpret<K extends RecordType>(reply: packet.Packet, type: K): DnsAnswer<RecordShapes[K]> {
  const flags = reply.flags ?? 0
  if (flags & packet.TRUNCATED_RESPONSE) return { kind: 'other', why: 'truncated' }
  const rcode = flags & 0xf
  if (rcode === NXDOMAIN) return { kind: 'nxdomain', ttl: negativeTtl(reply) }
  if (rcode !== 0) return { kind: 'other', why: `rcode ${rcode}` }
  const answers = reply.answers ?? []
  const matching = answers.filter((a) => a.type === type)
  if (matching.length === 0) return { kind: 'nodata', ttl: negativeTtl(reply) }
  const ttl = Math.min(...answers.map((a) => ('ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0)))
  return { kind: 'records', records: matching.map((a) => shape(a, type)), ttl }
}

/** One answer record in the form Node's resolver gives it. */
function shape<K extends RecordType>(a: packet.Answer, type: K): RecordShapes[K] {
  const data = (a as { data: unknown }).data
  switch (type) {
    case 'TXT':
      // long records come as several strings, kept apart as Node keeps them
      return (Array.isArray(data) ? data : [data]).map((d) => (typeof d === 'string' ? d : Buffer.from(d as Uint8Array).toString('utf8'))) as RecordShapes[K]
    case 'MX': {
      const mx = data as { preference: number; exchange: string }
      // a null MX (RFC 7505) is "." on the wire; Node gives ""
      return { exchange: mx.exchange === '.' ? '' : mx.exchange.replace(/\.$/, ''), priority: mx.preference } as RecordShapes[K]
    }
    default:
      return String(data) as RecordShapes[K]
  }
}

/** RFC 2308 section 5: a negative answer lives min(SOA TTL, SOA MINIMUM). */
function negativeTtl(reply: packet.Packet): number | undefined {
  const soa = (reply.authorities ?? []).find((a): a is packet.Answer & { type: 'SOA'; ttl?: number; data: { minimum: number } } => a.type === 'SOA')
  if (!soa) return undefined
  return Math.min(soa.ttl ?? 0, soa.data.minimum)
}
