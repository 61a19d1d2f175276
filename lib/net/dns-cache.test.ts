// The DNS cache against a real DNS server on loopback (the fixture server, UDP):
// answers come back as Node's resolver gives them (TXT, MX, A, AAAA), each name is
// asked once per TTL, negative answers are kept for the SOA's negative TTL, and
// what the cache cannot answer goes to the fallback resolver. installRouteCache on
// a real node:dns Resolver, as gateway-core installs it on Haraka's.

import dns from 'node:dns'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { FixtureDns } from '../../test/helpers/dns-server'
import { addressBlock } from '../../test/helpers/net'
import { DnsCache, installRouteCache } from './dns-cache'
import { queryDns, queryTxt } from './dns-query'

const block = addressBlock()
const fixture = new FixtureDns(block.ip(53), 53)
  .add('_dmarc.example.org', { type: 'TXT', data: 'v=DMARC1; p=reject' })
  .add('example.org', { type: 'A', data: '192.0.2.1' })
  .add('long.example.org', { type: 'TXT', data: `v=spf1 ${'include:a.example.org '.repeat(20)}-all` })
  .add('partner.example.org', { type: 'MX', preference: 10, exchange: 'mx1.partner.example.org' })
  .add('partner.example.org', { type: 'MX', preference: 20, exchange: 'mx2.partner.example.org' })
  .add('mx1.partner.example.org', { type: 'A', data: '192.0.2.10' })
  .add('mx1.partner.example.org', { type: 'AAAA', data: '2001:db8::10' })
  .add('nullmx.example.org', { type: 'MX', preference: 0, exchange: '.' })
beforeAll(() => fixture.start())
afterAll(() => fixture.stop())

function cache(now: () => number, extra: Partial<ConstructorParameters<typeof DnsCache>[0]> = {}) {
  const fallbacks: string[] = []
  const c = new DnsCache({
    maxTtlSeconds: 3600,
    maxNegativeTtlSeconds: 900,
    servers: () => [fixture.address],
    fallback: async (_type, name) => (fallbacks.push(name), [['from-fallback']]),
    now,
    ...extra,
  })
  return { c, fallbacks }
}
const asked = (name: string) => fixture.queries.filter((q) => q === `TXT ${name}`).length

describe('queryTxt', () => {
  it('returns the records, long ones joined from their 255-byte strings as Node does, with the TTL', async () => {
    const r = await queryTxt('long.example.org', fixture.address, 2000)
    expect(r.kind).toBe('records')
    if (r.kind !== 'records') return
    expect(r.ttl).toBe(60)
    const node = new dns.promises.Resolver()
    node.setServers([fixture.address])
    expect(r.records).toEqual(await node.resolveTxt('long.example.org'))
  })

  it('tells NXDOMAIN from a name without TXT, each with the SOA negative TTL', async () => {
    expect(await queryTxt('_dmarc.nowhere.example.org', fixture.address, 2000)).toEqual({ kind: 'nxdomain', ttl: 60 })
    expect(await queryTxt('example.org', fixture.address, 2000)).toEqual({ kind: 'nodata', ttl: 60 })
  })

  it('times out with ETIMEOUT on a server that never answers', async () => {
    await expect(queryTxt('example.org', `${block.ip(99)}:53`, 200)).rejects.toMatchObject({ code: 'ETIMEOUT' })
  })
})

describe('DnsCache', () => {
  it('asks DNS once per name and TTL, and again when the TTL ends', async () => {
    let t = 0
    const { c } = cache(() => t)
    const before = asked('_dmarc.example.org')
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.resolveTxt('_dmarc.example.org')))
    for (const a of answers) expect(a).toEqual([['v=DMARC1; p=reject']])
    expect(await c.resolveTxt('_DMARC.Example.ORG.')).toEqual([['v=DMARC1; p=reject']])
    expect(asked('_dmarc.example.org') - before).toBe(1) // 21 questions, one query (concurrent ones shared it)
    t += 59_999
    await c.resolveTxt('_dmarc.example.org')
    expect(asked('_dmarc.example.org') - before).toBe(1)
    t += 1
    await c.resolveTxt('_dmarc.example.org')
    expect(asked('_dmarc.example.org') - before).toBe(2)
    expect(c.stats.hits).toBe(2) // the other 19 of the first 20 waited on the one query in flight
  })

  it('keeps negative answers for the negative TTL, with the codes Node gives (ENOTFOUND, ENODATA)', async () => {
    let t = 0
    const { c } = cache(() => t)
    const before = asked('_dmarc.gone.example.org')
    for (let i = 0; i < 3; i++) await expect(c.resolveTxt('_dmarc.gone.example.org')).rejects.toMatchObject({ code: 'ENOTFOUND', hostname: '_dmarc.gone.example.org' })
    await expect(c.resolveTxt('example.org')).rejects.toMatchObject({ code: 'ENODATA' })
    expect(asked('_dmarc.gone.example.org') - before).toBe(1)
    t += 60_000
    await expect(c.resolveTxt('_dmarc.gone.example.org')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    expect(asked('_dmarc.gone.example.org') - before).toBe(2)
  })

  it('never keeps an answer longer than the configured maximum, and a maximum of 0 keeps nothing', async () => {
    let t = 0
    const short = cache(() => t, { maxTtlSeconds: 10, maxNegativeTtlSeconds: 0 }).c
    const before = asked('_dmarc.example.org')
    await short.resolveTxt('_dmarc.example.org')
    t += 10_000
    await short.resolveTxt('_dmarc.example.org')
    expect(asked('_dmarc.example.org') - before).toBe(2)
    const negBefore = asked('_dmarc.none.example.org')
    await expect(short.resolveTxt('_dmarc.none.example.org')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    await expect(short.resolveTxt('_dmarc.none.example.org')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    expect(asked('_dmarc.none.example.org') - negBefore).toBe(2)
  })

  it('hands what it cannot answer to the fallback, uncached: silent servers, prototype names as names', async () => {
    const { c, fallbacks } = cache(() => 0, { servers: () => [`${block.ip(99)}:53`], timeoutMs: 100 })
    expect(await c.resolveTxt('example.org')).toEqual([['from-fallback']])
    expect(await c.resolveTxt('example.org')).toEqual([['from-fallback']])
    expect(fallbacks).toEqual(['example.org', 'example.org'])
    const ok = cache(() => 0).c
    await expect(ok.resolveTxt('__proto__')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    await expect(ok.resolveTxt('constructor')).rejects.toMatchObject({ code: 'ENOTFOUND' })
  })
})

describe('queryDns and the route cache (MX, A, AAAA)', () => {
  const node = new dns.promises.Resolver()
  beforeAll(() => node.setServers([fixture.address]))

  it('gives MX, A and AAAA records exactly as Node does, a null MX as an empty exchange', async () => {
    const mx = await queryDns('partner.example.org', 'MX', fixture.address, 2000)
    expect(mx.kind === 'records' && mx.records).toEqual(await node.resolveMx('partner.example.org'))
    const a = await queryDns('mx1.partner.example.org', 'A', fixture.address, 2000)
    expect(a.kind === 'records' && a.records).toEqual(await node.resolve4('mx1.partner.example.org'))
    const aaaa = await queryDns('mx1.partner.example.org', 'AAAA', fixture.address, 2000)
    expect(aaaa.kind === 'records' && aaaa.records).toEqual(await node.resolve6('mx1.partner.example.org'))
    const nullMx = await queryDns('nullmx.example.org', 'MX', fixture.address, 2000)
    expect(nullMx.kind === 'records' && nullMx.records).toEqual([{ exchange: '', priority: 0 }])
    expect(await queryDns('mx2.partner.example.org', 'A', fixture.address, 2000)).toEqual({ kind: 'nxdomain', ttl: 60 })
    expect(await queryDns('mx1.partner.example.org', 'MX', fixture.address, 2000)).toEqual({ kind: 'nodata', ttl: 60 })
  })

  it('answers a Resolver\'s resolveMx/resolve4/resolve6 from the cache: one query per name and type, the same errors', async () => {
    const resolver = new dns.promises.Resolver()
    resolver.setServers([fixture.address])
    const c = installRouteCache(resolver, { maxTtlSeconds: 3600, maxNegativeTtlSeconds: 900 })
    expect(installRouteCache(resolver, { maxTtlSeconds: 1, maxNegativeTtlSeconds: 1 })).toBe(c) // once per resolver
    const before = fixture.queries.length
    for (let i = 0; i < 5; i++) {
      expect(await resolver.resolveMx('partner.example.org')).toEqual(await node.resolveMx('partner.example.org'))
      expect(await resolver.resolve4('mx1.partner.example.org')).toEqual(['192.0.2.10'])
      expect(await resolver.resolve6('mx1.partner.example.org')).toEqual(await node.resolve6('mx1.partner.example.org'))
      await expect(resolver.resolve6('mx2.partner.example.org')).rejects.toMatchObject({ code: 'ENOTFOUND', syscall: 'queryAaaa' })
      await expect(resolver.resolveMx('mx1.partner.example.org')).rejects.toMatchObject({ code: 'ENODATA', syscall: 'queryMx' })
    }
    // 5 lookups of each of the 5 questions: each sent to DNS once (`node` asked the others in the comparisons)
    expect(c.stats.queries).toBe(5)
    expect(c.stats.hits).toBe(20)
    expect(fixture.queries.slice(before).filter((q) => q === 'A mx1.partner.example.org')).toHaveLength(1)
    // calls with options (e.g. ttl) go to the resolver itself
    expect(await resolver.resolve4('mx1.partner.example.org', { ttl: true })).toEqual([{ address: '192.0.2.10', ttl: 60 }])
  })
})
