// The TXT cache against a real DNS server on loopback (the fixture server, UDP):
// answers come back as Node's resolveTxt gives them, each name is asked once per
// TTL, negative answers are kept for the SOA's negative TTL, and what the cache
// cannot answer goes to the fallback resolver.

import dns from 'node:dns'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { FixtureDns } from '../../test/helpers/dns-server'
import { addressBlock } from '../../test/helpers/net'
import { TxtCache } from './txt-cache'
import { queryTxt } from './txt-query'

const block = addressBlock()
const fixture = new FixtureDns(block.ip(53), 53)
  .add('_dmarc.example.org', { type: 'TXT', data: 'v=DMARC1; p=reject' })
  .add('example.org', { type: 'A', data: '192.0.2.1' })
  .add('long.example.org', { type: 'TXT', data: `v=spf1 ${'include:a.example.org '.repeat(20)}-all` })
beforeAll(() => fixture.start())
afterAll(() => fixture.stop())

function cache(now: () => number, extra: Partial<ConstructorParameters<typeof TxtCache>[0]> = {}) {
  const fallbacks: string[] = []
  const c = new TxtCache({
    maxTtlSeconds: 3600,
    maxNegativeTtlSeconds: 900,
    servers: () => [fixture.address],
    fallback: async (name) => (fallbacks.push(name), [['from-fallback']]),
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

describe('TxtCache', () => {
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
