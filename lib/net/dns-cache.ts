// DNS answers kept for their TTL, in each instance process.
//
// TXT: SPF, DKIM keys and DMARC policies all go through dns.promises.resolveTxt,
// and the same sender domains come back message after message. MX, A, AAAA: the
// delivery queue asks them for every attempt (haraka-net-utils get_mx: the MX,
// then AAAA and A of each exchange), and mail goes to the same few domains all
// day. Node's resolver has no cache (see dns-query.ts), and a gateway should not
// depend on the host having a caching resolver: without one, each message cost
// its own round trips to DNS.
//
// Kept: answers with records, for min(TTL, max TTL); NXDOMAIN and "no record" for
// min(SOA TTL, SOA minimum, max negative TTL) (RFC 2308), not at all without an
// SOA. Never kept: timeouts, SERVFAIL, truncated answers (those go to Node's
// resolver, uncached, which retries and falls back to TCP).
// Concurrent questions for the same name share one query. Names are client input
// (sender domains): a Map, never a plain object; at most `maxEntries` answers, the
// oldest dropped first.

import dns from 'node:dns'

import { queryDns, syscallType, type DnsAnswer, type RecordShapes, type RecordType } from './dns-query'

export interface DnsCacheOptions {
  /** Longest a positive answer is kept, whatever its TTL (s). */
  maxTtlSeconds: number
  /** Longest a negative answer is kept (s). */
  maxNegativeTtlSeconds: number
  /** Per server and question (ms). */
  timeoutMs?: number
  maxEntries?: number
  /** The servers to ask (default: Node's, as gateway-core set them). */
  servers?: () => string[]
  /** Where every question this cache does not answer goes (default: Node's resolver). */
  fallback?: (type: RecordType, name: string) => Promise<unknown[]>
  query?: typeof queryDns
  /** Monotonic ms (tests). */
  now?: () => number
}

type Entry = { expiresAt: number } & ({ records: unknown[] } | { code: 'ENOTFOUND' | 'ENODATA' })

/** What Node's resolver calls for each type (the fallback for what the cache cannot answer). */
function nodeResolver(resolver: Pick<dns.promises.Resolver, 'resolveTxt' | 'resolveMx' | 'resolve4' | 'resolve6'>) {
  const methods = { TXT: resolver.resolveTxt, MX: resolver.resolveMx, A: resolver.resolve4, AAAA: resolver.resolve6 }
  return (type: RecordType, name: string): Promise<unknown[]> => (methods[type] as (n: string) => Promise<unknown[]>).call(resolver, name)
}

export class DnsCache {
  private readonly entries = new Map<string, Entry>()
  private readonly pending = new Map<string, Promise<Entry | undefined>>()
  private readonly now: () => number
  private readonly servers: () => string[]
  private readonly fallback: (type: RecordType, name: string) => Promise<unknown[]>
  private readonly query: typeof queryDns
  /** Questions answered from the cache / sent to DNS / handed to the fallback (tests, benchmarks). */
  readonly stats = { hits: 0, queries: 0, fallbacks: 0 }

  constructor(private readonly opts: DnsCacheOptions) {
    this.now = opts.now ?? (() => performance.now())
    this.servers = opts.servers ?? (() => dns.getServers())
    this.fallback = opts.fallback ?? nodeResolver(dns.promises)
    this.query = opts.query ?? queryDns
  }

  resolveTxt(name: string): Promise<string[][]> {
    return this.resolve('TXT', name)
  }

  /** The records of `type` at `name` as Node's resolver gives them, or its error (code ENOTFOUND, ENODATA, ...). */
  async resolve<K extends RecordType>(type: K, name: string): Promise<RecordShapes[K][]> {
    const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`
    let entry = this.fresh(key)
    if (entry) this.stats.hits++
    else {
      let inFlight = this.pending.get(key)
      if (!inFlight) {
        inFlight = this.ask(type, name, key).finally(() => this.pending.delete(key))
        this.pending.set(key, inFlight)
      }
      entry = await inFlight
      if (!entry) {
        this.stats.fallbacks++
        return (await this.fallback(type, name)) as RecordShapes[K][]
      }
    }
    // a copy each time: callers may change what they get
    if ('records' in entry) return entry.records.map((r) => (Array.isArray(r) ? [...r] : typeof r === 'object' ? { ...r } : r)) as RecordShapes[K][]
    const syscall = `query${syscallType(type)}`
    throw Object.assign(stacklessError(`${syscall} ${entry.code} ${name}`), { code: entry.code, syscall, hostname: name })
  }

  private fresh(key: string): Entry | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    if (e.expiresAt > this.now()) return e
    this.entries.delete(key)
    return undefined
  }

  /** The answer as an entry (kept when it may be), or undefined when Node's resolver must answer. */
  private async ask(type: RecordType, name: string, key: string): Promise<Entry | undefined> {
    for (const server of this.servers()) {
      let answer: DnsAnswer<unknown>
      try {
        this.stats.queries++
        answer = await this.query(name, type, server, this.opts.timeoutMs ?? 2_000)
      } catch {
        continue // silent or unreachable: the next server
      }
      return this.keep(key, answer)
    }
    return undefined
  }

  private keep(key: string, answer: DnsAnswer<unknown>): Entry | undefined {
    if (answer.kind === 'other') return undefined
    const seconds =
      answer.kind === 'records' ? Math.min(answer.ttl, this.opts.maxTtlSeconds) : Math.min(answer.ttl ?? 0, this.opts.maxNegativeTtlSeconds)
    const expiresAt = this.now() + seconds * 1000
    const entry: Entry = answer.kind === 'records' ? { records: answer.records, expiresAt } : { code: answer.kind === 'nxdomain' ? 'ENOTFOUND' : 'ENODATA', expiresAt }
    if (seconds > 0) {
      this.entries.delete(key)
      if (this.entries.size >= (this.opts.maxEntries ?? 10_000)) this.entries.delete(this.entries.keys().next().value!)
      this.entries.set(key, entry)
    }
    return entry
  }
}

let installedTxt: DnsCache | undefined

/**
 * Makes dns.promises.resolveTxt (and so node:dns/promises, the same object) answer
 * through one DnsCache in this process. Idempotent; returns the cache.
 */
export function installTxtCache(opts: DnsCacheOptions): DnsCache {
  if (installedTxt) return installedTxt
  const cache = new DnsCache(opts)
  dns.promises.resolveTxt = (name: string) => cache.resolveTxt(name)
  installedTxt = cache
  return cache
}

/** The methods of the delivery queue's Resolver (lib/haraka/dns.ts) the route cache answers. */
export type RouteResolver = Pick<dns.promises.Resolver, 'resolveMx' | 'resolve4' | 'resolve6' | 'getServers'>

const ROUTES_CACHED = Symbol.for('edge-gateway.dns.route-cache')

/**
 * Makes `resolver` (Haraka's own, for MX lookups) answer resolveMx, resolve4 and
 * resolve6 through one DnsCache, asking the servers that resolver uses; calls with
 * options (e.g. { ttl: true }) go to the resolver as before. Idempotent per resolver.
 */
export function installRouteCache(resolver: RouteResolver, opts: Omit<DnsCacheOptions, 'servers' | 'fallback'>): DnsCache {
  const r = resolver as RouteResolver & { [ROUTES_CACHED]?: DnsCache }
  if (r[ROUTES_CACHED]) return r[ROUTES_CACHED]
  const original = { MX: r.resolveMx, A: r.resolve4, AAAA: r.resolve6 }
  // the resolver's own methods (from its prototype), called on it: what the cache cannot answer
  const fallback = (type: RecordType, name: string) => (original[type as keyof typeof original] as (n: string) => Promise<unknown[]>).call(resolver, name)
  const cache = new DnsCache({ ...opts, servers: () => resolver.getServers(), fallback })
  // own properties over the prototype's methods
  Object.assign(r, {
    resolveMx: (name: string) => cache.resolve('MX', name),
    resolve4: (name: string, options?: unknown) => (options === undefined ? cache.resolve('A', name) : original.A.call(resolver, name, options as never)),
    resolve6: (name: string, options?: unknown) => (options === undefined ? cache.resolve('AAAA', name) : original.AAAA.call(resolver, name, options as never)),
  })
  r[ROUTES_CACHED] = cache
  return cache
}

/**
 * An Error without a stack trace: a cached "no such domain" is an answer, thrown
 * for every message whose sender's domain publishes no DMARC record (two lookups
 * each), and capturing a stack it never shows cost more than the lookup (issue 12).
 */
function stacklessError(message: string): Error {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new Error(message)
  } finally {
    Error.stackTraceLimit = limit
  }
}
