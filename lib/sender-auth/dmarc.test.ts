import { describe, expect, it } from 'vitest'

import { discoverPolicy, evaluateAuthors, evaluateDmarc, parseDmarcRecord, type TxtResolver } from './dmarc'

/** A resolver over a fixed zone: unknown names are NXDOMAIN, like a real server. */
function zone(records: Record<string, string[] | Error>): TxtResolver & { asked: string[] } {
  const asked: string[] = []
  const fn = async (name: string) => {
    asked.push(name)
    const r = Object.hasOwn(records, name) ? records[name] : undefined
    if (r instanceof Error) throw r
    if (!r) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
    return r.map((t) => [t])
  }
  return Object.assign(fn, { asked })
}

const servfail = () => Object.assign(new Error('server failure'), { code: 'ESERVFAIL' })

describe('parseDmarcRecord', () => {
  it('reads p, sp, adkim, aspf and pct with their defaults', () => {
    expect(parseDmarcRecord('v=DMARC1; p=reject')).toEqual({ p: 'reject', adkim: 'relaxed', aspf: 'relaxed', pct: 100 })
    expect(parseDmarcRecord('v=DMARC1;p=Quarantine;sp=none;adkim=s;aspf=s;pct=20;rua=mailto:x@example.com')).toEqual({
      p: 'quarantine',
      sp: 'none',
      adkim: 'strict',
      aspf: 'strict',
      pct: 20,
    })
  })

  it('is not a DMARC record unless v=DMARC1 comes first', () => {
    expect(parseDmarcRecord('p=reject; v=DMARC1')).toBeUndefined()
    expect(parseDmarcRecord('v=spf1 -all')).toBeUndefined()
    expect(parseDmarcRecord('v=DMARC2; p=reject')).toBeUndefined()
  })

  it('a missing or unknown p= means p=none when reports are requested, else no record (RFC 7489 6.6.3)', () => {
    expect(parseDmarcRecord('v=DMARC1; rua=mailto:d@example.com')?.p).toBe('none')
    expect(parseDmarcRecord('v=DMARC1; p=bounce; rua=mailto:d@example.com')?.p).toBe('none')
    expect(parseDmarcRecord('v=DMARC1; p=bounce')).toBeUndefined()
    expect(parseDmarcRecord('v=DMARC1')).toBeUndefined()
  })
})

describe('discoverPolicy', () => {
  it('falls back from the From domain to its organizational domain', async () => {
    const dns = zone({ '_dmarc.example.com': ['v=DMARC1; p=none; sp=reject'] })
    const d = await discoverPolicy('news.example.com', dns)
    expect(d).toMatchObject({ kind: 'found', found: { at: 'example.com', fromOrgDomain: true } })
    expect(dns.asked).toEqual(['_dmarc.news.example.com', '_dmarc.example.com'])
  })

  it('ignores other TXT records at the name, and stops at several DMARC records', async () => {
    expect(await discoverPolicy('a.test', zone({ '_dmarc.a.test': ['hello', 'v=DMARC1; p=reject'] }))).toMatchObject({ kind: 'found' })
    const dns = zone({ '_dmarc.x.a.test': ['v=DMARC1; p=none', 'v=DMARC1; p=reject'], '_dmarc.a.test': ['v=DMARC1; p=reject'] })
    expect(await discoverPolicy('x.a.test', dns)).toEqual({ kind: 'none' })
    expect(dns.asked).toEqual(['_dmarc.x.a.test'])
  })

  it('reports a DNS failure as temperror, not as "no policy"', async () => {
    expect(await discoverPolicy('a.test', zone({ '_dmarc.a.test': servfail() }))).toEqual({ kind: 'temperror', error: 'ESERVFAIL' })
    expect(await discoverPolicy('x.a.test', zone({ '_dmarc.a.test': servfail() }))).toMatchObject({ kind: 'temperror' })
  })
})

describe('evaluateDmarc', () => {
  const reject = zone({ '_dmarc.example.com': ['v=DMARC1; p=reject'] })

  it('passes with an aligned passing DKIM signature (relaxed: a subdomain counts)', async () => {
    const o = await evaluateDmarc('example.com', { dkim: [{ result: 'pass', domain: 'mail.example.com' }] }, reject)
    expect(o).toMatchObject({ result: 'pass', domain: 'example.com', published: 'reject', alignedWith: 'dkim' })
  })

  it('passes with an aligned SPF pass', async () => {
    const o = await evaluateDmarc('example.com', { spf: { result: 'pass', domain: 'bounces.example.com' }, dkim: [] }, reject)
    expect(o).toMatchObject({ result: 'pass', alignedWith: 'spf' })
  })

  it('fails when the passing identifiers belong to other domains, or do not pass', async () => {
    const ids = {
      spf: { result: 'pass', domain: 'sender.net' },
      dkim: [
        { result: 'pass', domain: 'sender.net' },
        { result: 'fail', domain: 'example.com' },
        { result: 'temperror', domain: 'example.com' },
      ],
    }
    expect(await evaluateDmarc('example.com', ids, reject)).toMatchObject({ result: 'fail', policy: 'reject', published: 'reject' })
  })

  it('enforces strict alignment (adkim=s, aspf=s): a subdomain is not enough', async () => {
    const strict = zone({ '_dmarc.example.com': ['v=DMARC1; p=reject; adkim=s; aspf=s'] })
    const sub = { spf: { result: 'pass', domain: 'bounces.example.com' }, dkim: [{ result: 'pass', domain: 'mail.example.com' }] }
    expect(await evaluateDmarc('example.com', sub, strict)).toMatchObject({ result: 'fail', policy: 'reject' })
    expect(await evaluateDmarc('example.com', { dkim: [{ result: 'pass', domain: 'EXAMPLE.com' }] }, strict)).toMatchObject({ result: 'pass' })
  })

  it('applies sp= to a subdomain whose policy came from the organizational domain', async () => {
    const dns = zone({ '_dmarc.example.com': ['v=DMARC1; p=none; sp=quarantine'] })
    expect(await evaluateDmarc('news.example.com', { dkim: [] }, dns)).toMatchObject({ result: 'fail', policy: 'quarantine' })
    expect(await evaluateDmarc('example.com', { dkim: [] }, dns)).toMatchObject({ result: 'fail', policy: 'none' })
  })

  it('applies the next weaker policy to mail outside pct=', async () => {
    const dns = zone({ '_dmarc.example.com': ['v=DMARC1; p=reject; pct=30'] })
    expect(await evaluateDmarc('example.com', { dkim: [] }, dns, () => 0.1)).toMatchObject({ policy: 'reject' })
    expect(await evaluateDmarc('example.com', { dkim: [] }, dns, () => 0.5)).toMatchObject({ policy: 'quarantine', published: 'reject' })
  })

  it('is none without a record, temperror when DNS fails, none for an unusable domain', async () => {
    expect(await evaluateDmarc('example.org', { dkim: [] }, reject)).toEqual({ result: 'none', domain: 'example.org' })
    expect(await evaluateDmarc('example.org', { dkim: [] }, zone({ '_dmarc.example.org': servfail() }))).toMatchObject({ result: 'temperror' })
    const dns = zone({})
    expect(await evaluateDmarc('not a domain', { dkim: [] }, dns)).toMatchObject({ result: 'none', domain: '' })
    expect(dns.asked).toEqual([])
  })
})

describe('evaluateAuthors', () => {
  it('with several From domains the most severe outcome counts', async () => {
    const dns = zone({ '_dmarc.bank.test': ['v=DMARC1; p=reject'], '_dmarc.mine.test': ['v=DMARC1; p=reject'] })
    const ids = { dkim: [{ result: 'pass', domain: 'mine.test' }] }
    expect(await evaluateAuthors(['mine.test', 'bank.test'], ids, dns)).toMatchObject({ result: 'fail', domain: 'bank.test', policy: 'reject' })
    expect(await evaluateAuthors(['mine.test'], ids, dns)).toMatchObject({ result: 'pass', domain: 'mine.test' })
    expect(await evaluateAuthors([], ids, dns)).toMatchObject({ result: 'none', domain: '' })
  })
})
