// A fixture DNS server for tests: answers from in-memory zones over UDP, so MX,
// A and TXT lookups (MX routing, later SPF/DKIM/DMARC) never leave the machine.
// Unknown names get NXDOMAIN; a known name without the asked type gets an empty
// NOERROR answer, as a real authoritative server would.

import dgram from 'node:dgram'

import * as packet from 'dns-packet'

export type FixtureRecord =
  | { type: 'A'; data: string }
  | { type: 'AAAA'; data: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'TXT'; data: string }
  | { type: 'PTR'; data: string }

export class FixtureDns {
  private readonly zones = new Map<string, FixtureRecord[]>()
  private socket: dgram.Socket | undefined
  /** Every question received, e.g. "MX example.net" (lets tests see what was asked). */
  readonly queries: string[] = []

  /** TTL of every answer, and the negative TTL of NXDOMAIN / empty answers (seconds). */
  ttl = 60
  negativeTtl = 60

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  add(name: string, ...records: FixtureRecord[]): this {
    const key = name.toLowerCase().replace(/\.$/, '')
    this.zones.set(key, [...(this.zones.get(key) ?? []), ...records])
    return this
  }

  /** "host:port" for GATEWAY_DNS_SERVERS. */
  get address(): string {
    return `${this.host}:${this.port}`
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket('udp4')
    socket.on('message', (msg, rinfo) => {
      try {
        const reply = this.answer(msg)
        socket.send(reply, rinfo.port, rinfo.address)
      } catch {
        // malformed query: a real server would drop it too
      }
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(this.port, this.host, () => resolve())
    })
    this.socket = socket
  }

  async stop(): Promise<void> {
    const s = this.socket
    this.socket = undefined
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  private answer(msg: Buffer): Buffer {
    const query = packet.decode(msg)
    const question = query.questions?.[0]
    if (!question) throw new Error('no question')
    const name = question.name.toLowerCase().replace(/\.$/, '')
    this.queries.push(`${question.type} ${name}`)
    const records = this.zones.get(name)
    const answers: packet.Answer[] = (records ?? [])
      .filter((r) => r.type === question.type)
      .map((r) => {
        const base = { name: question.name, ttl: this.ttl, class: 'IN' as const }
        switch (r.type) {
          case 'MX':
            return { ...base, type: 'MX', data: { preference: r.preference, exchange: r.exchange } }
          case 'TXT':
            return { ...base, type: 'TXT', data: chunk(r.data) }
          default:
            return { ...base, type: r.type, data: r.data }
        }
      }) as packet.Answer[]
    // a negative answer carries the zone's SOA, as a real server's does: it says how long it may be cached (RFC 2308)
    const soa = { name: 'test', type: 'SOA', ttl: this.negativeTtl, class: 'IN', data: { mname: 'ns.fixture.test', rname: 'hostmaster.fixture.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: this.negativeTtl } }
    return packet.encode({
      id: query.id,
      type: 'response',
      flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (records ? 0 : 3), // rcode 3 = NXDOMAIN
      questions: [question],
      answers,
      authorities: answers.length === 0 ? [soa as packet.Answer] : [],
    })
  }
}

/** TXT strings are at most 255 bytes each; long records (DKIM keys) are split. */
function chunk(text: string): string[] {
  const out: string[] = []
  for (let i = 0; i < text.length; i += 255) out.push(text.slice(i, i + 255))
  return out.length ? out : ['']
}
