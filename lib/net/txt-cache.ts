// TXT answers kept for their DNS TTL, for every lookup in the process: SPF,
// DKIM keys and DMARC policies all go through dns.promises.resolveTxt, and the
// same sender domains come back message after message. Node's resolver has no
// cache (see txt-query.ts), and a gateway should not depend on the host having a
// caching resolver: without one, each message cost its own round trips to DNS.
//
// Kept: answers with records, for min(TTL, max TTL); NXDOMAIN and "no TXT" for
// min(SOA TTL, SOA minimum, max negative TTL) (RFC 2308), not at all without an
// SOA. Never kept: timeouts, SERVFAIL, truncated answers (those go to Node's
// resolver, uncached, which retries and falls back to TCP).
// Concurrent questions for the same name share one query. Names are client input
// (sender domains): a Map, never a plain object; at most `maxEntries` names, the
// oldest dropped first.

import dns from 'node:dns'

import { queryTxt, type TxtAnswer } from './txt-query'

export interface TxtCacheOptions {
  /** Longest a positive answer is kept, whatever its TTL (s). */
  maxTtlSeconds: number
  /** Longest a negative answer is kept (s). */
  maxNegativeTtlSeconds: number
  /** Per server and question (ms). */
  timeoutMs?: number
  maxEntries?: number
  /** The servers to ask (default: Node's, as gateway-core set them). */
  servers?: () => string[]
  /** Where every question this cache does not answer goes (default: Node's resolveTxt). */
  fallback?: (name: string) => Promise<string[][]>
  query?: typeof queryTxt
  /** Monotonic ms (tests). */
  now?: () => number
}

type Entry = { expiresAt: number } & ({ records: string[][] } | { code: 'ENOTFOUND' | 'ENODATA' })

export class TxtCache {
  private readonly entries = new Map<string, Entry>()
  private readonly pending = new Map<string, Promise<Entry | undefined>>()
  private readonly now: () => number
  private readonly servers: () => string[]
  private readonly fallback: (name: string) => Promise<string[][]>
  private readonly query: typeof queryTxt
  /** Questions answered from the cache / sent to DNS (for tests and benchmarks). */
  readonly stats = { hits: 0, queries: 0, fallbacks: 0 }

  constructor(private readonly opts: TxtCacheOptions) {
    this.now = opts.now ?? (() => performance.now())
    this.servers = opts.servers ?? (() => dns.getServers())
    const nodeResolveTxt = dns.promises.resolveTxt
    this.fallback = opts.fallback ?? ((name) => nodeResolveTxt(name))
    this.query = opts.query ?? queryTxt
  }

  async resolveTxt(name: string): Promise<string[][]> {
    const key = name.toLowerCase().replace(/\.$/, '')
    let entry = this.fresh(key)
    if (entry) this.stats.hits++
    else {
      let inFlight = this.pending.get(key)
      if (!inFlight) {
        inFlight = this.ask(name, key).finally(() => this.pending.delete(key))
        this.pending.set(key, inFlight)
      }
      entry = await inFlight
      if (!entry) {
        this.stats.fallbacks++
        return this.fallback(name)
      }
    }
    if ('records' in entry) return entry.records.map((r) => [...r])
    throw Object.assign(new Error(`queryTxt ${entry.code} ${name}`), { code: entry.code, syscall: 'queryTxt', hostname: name })
  }

  private fresh(key: string): Entry | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    if (e.expiresAt > this.now()) return e
    this.entries.delete(key)
    return undefined
  }

  /** The answer as an entry (kept when it may be), or undefined when Node's resolver must answer. */
  private async ask(name: string, key: string): Promise<Entry | undefined> {
    for (const server of this.servers()) {
      let answer: TxtAnswer
      try {
        this.stats.queries++
        answer = await this.query(name, server, this.opts.timeoutMs ?? 2_000)
      } catch {
        continue // silent or unreachable: the next server
      }
      return this.keep(key, answer)
    }
    return undefined
  }

  private keep(key: string, answer: TxtAnswer): Entry | undefined {
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

let installed: TxtCache | undefined

/**
 * Makes dns.promises.resolveTxt (and so node:dns/promises, the same object) answer
 * through one TxtCache in this process. Idempotent; returns the cache.
 */
export function installTxtCache(opts: TxtCacheOptions): TxtCache {
  if (installed) return installed
  const cache = new TxtCache(opts)
  dns.promises.resolveTxt = (name: string) => cache.resolveTxt(name)
  installed = cache
  return cache
}
