// DMARC (RFC 7489): finds the policy the author (From) domain publishes and
// decides whether the message's SPF and DKIM results authenticate that domain.
// Pure protocol logic: DNS comes in as a function, results come in as data.
//
// Not mailauth's dmarc module: in mailauth 4.9.5 strict alignment (adkim=s,
// aspf=s) falls through to relaxed matching, so a strict policy is never
// enforced. The organizational domain comes from tldts, as in mailauth.

import { hostDomain } from '../address/domain'
import { isAligned, organizationalDomain, type AlignmentMode } from './org-domain'

export type Policy = 'none' | 'quarantine' | 'reject'

export interface DmarcRecord {
  p: Policy
  /** Policy for subdomains when the record was found at the organizational domain. */
  sp?: Policy
  adkim: AlignmentMode
  aspf: AlignmentMode
  /** Percentage of failing mail the policy applies to (0-100). */
  pct: number
}

/** TXT lookup: the record's strings per answer, like dns.promises.resolveTxt. */
export type TxtResolver = (name: string) => Promise<string[][]>

export interface PolicyFound {
  record: DmarcRecord
  /** The domain the record was published at. */
  at: string
  /** True when found at the organizational domain because the From domain had none. */
  fromOrgDomain: boolean
}

export type Discovery = { kind: 'found'; found: PolicyFound } | { kind: 'none' } | { kind: 'temperror'; error: string }

const POLICIES: ReadonlySet<string> = new Set(['none', 'quarantine', 'reject'])

/**
 * Parses one TXT record. Undefined when it is not a DMARC record or must be
 * ignored (RFC 7489 6.6.3: a missing or invalid p= means "p=none" when a report
 * address is given, else no DMARC processing at all).
 */
export function parseDmarcRecord(txt: string): DmarcRecord | undefined {
  const tags = new Map<string, string>()
  const parts = txt.split(';').map((s) => s.trim())
  for (const [i, part] of parts.entries()) {
    if (!part) continue
    const eq = part.indexOf('=')
    if (eq <= 0) return undefined
    const key = part.slice(0, eq).trim().toLowerCase()
    const value = part.slice(eq + 1).trim()
    // v=DMARC1 must be the first tag, exactly
    if (i === 0 && (key !== 'v' || value !== 'DMARC1')) return undefined
    if (!tags.has(key)) tags.set(key, value)
  }
  if (tags.get('v') !== 'DMARC1') return undefined

  const policy = (v: string | undefined): Policy | undefined => (v !== undefined && POLICIES.has(v.toLowerCase()) ? (v.toLowerCase() as Policy) : undefined)
  let p = policy(tags.get('p'))
  const spRaw = tags.get('sp')
  const sp = policy(spRaw)
  if (!p || (spRaw !== undefined && !sp)) {
    if (!tags.get('rua')?.includes(':')) return undefined
    p = 'none'
  }
  const mode = (v: string | undefined): AlignmentMode => (v?.toLowerCase() === 's' ? 'strict' : 'relaxed')
  const pctRaw = tags.get('pct')
  const pct = pctRaw !== undefined && /^\d{1,3}$/.test(pctRaw) ? Math.min(100, Number(pctRaw)) : 100
  const record: DmarcRecord = { p, adkim: mode(tags.get('adkim')), aspf: mode(tags.get('aspf')), pct }
  if (sp) record.sp = sp
  return record
}

type Lookup = { kind: 'record'; record: DmarcRecord } | { kind: 'none' } | { kind: 'ambiguous' } | { kind: 'temperror'; error: string }

async function lookup(domain: string, resolveTxt: TxtResolver): Promise<Lookup> {
  let answers: string[][]
  try {
    answers = await resolveTxt(`_dmarc.${domain}`)
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { kind: 'none' }
    return { kind: 'temperror', error: code ?? (err as Error).message }
  }
  const records = answers.map((strings) => strings.join('')).filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t))
  if (records.length === 0) return { kind: 'none' }
  // several DMARC records at one name: the owner's intent is unknown (RFC 7489 6.6.3 step 5)
  if (records.length > 1) return { kind: 'ambiguous' }
  const record = parseDmarcRecord(records[0]!)
  return record ? { kind: 'record', record } : { kind: 'none' }
}

/** Policy discovery: the From domain, then its organizational domain (RFC 7489 6.6.3). */
export async function discoverPolicy(fromDomain: string, resolveTxt: TxtResolver): Promise<Discovery> {
  const own = await lookup(fromDomain, resolveTxt)
  if (own.kind === 'record') return { kind: 'found', found: { record: own.record, at: fromDomain, fromOrgDomain: false } }
  if (own.kind === 'temperror') return own
  if (own.kind === 'ambiguous') return { kind: 'none' }
  const org = organizationalDomain(fromDomain)
  if (org === fromDomain) return { kind: 'none' }
  const parent = await lookup(org, resolveTxt)
  if (parent.kind === 'record') return { kind: 'found', found: { record: parent.record, at: org, fromOrgDomain: true } }
  if (parent.kind === 'temperror') return parent
  return { kind: 'none' }
}

/** The authenticated identifiers DMARC looks at, already verified. */
export interface Identifiers {
  /** SPF result and its domain (MAIL FROM, or HELO for the null sender). */
  spf?: { result: string; domain: string }
  /** One per DKIM signature: its result and d=. */
  dkim: { result: string; domain: string }[]
}

export type DmarcResult = 'pass' | 'fail' | 'none' | 'temperror'

export interface DmarcOutcome {
  result: DmarcResult
  /** The author domain evaluated. */
  domain: string
  /** What the domain asks receivers to do with this failing message (after sp= and pct=); only for fail. */
  policy?: Policy
  /** The published policy (p= or sp= as applicable), for reporting. */
  published?: Policy
  /** Which identifier aligned, for logs. */
  alignedWith?: 'dkim' | 'spf'
  /** For logs only. */
  detail?: string
}

/**
 * DMARC for one author domain. Only a passing, aligned identifier passes: a
 * DKIM or SPF temperror does not soften a failure, since a sender can provoke
 * one at will (e.g. a signature with an unresolvable selector).
 */
export async function evaluateDmarc(
  fromDomainRaw: string,
  ids: Identifiers,
  resolveTxt: TxtResolver,
  random: () => number = Math.random,
): Promise<DmarcOutcome> {
  const domain = hostDomain(fromDomainRaw)
  if (!domain) return { result: 'none', domain: '', detail: 'no usable From domain' }
  const discovery = await discoverPolicy(domain, resolveTxt)
  if (discovery.kind === 'none') return { result: 'none', domain }
  if (discovery.kind === 'temperror') return { result: 'temperror', domain, detail: `DMARC record lookup failed: ${discovery.error}` }

  const { record, at, fromOrgDomain } = discovery.found
  const published = fromOrgDomain && record.sp ? record.sp : record.p
  const alignedWith = alignment(domain, ids, record)
  if (alignedWith) return { result: 'pass', domain, published, alignedWith }

  // pct: mail outside the sample gets the next weaker policy (RFC 7489 6.6.4)
  const sampled = record.pct >= 100 || random() * 100 < record.pct
  const policy: Policy = sampled ? published : published === 'reject' ? 'quarantine' : 'none'
  return { result: 'fail', domain, policy, published, detail: `record at _dmarc.${at}${sampled ? '' : `, outside pct=${record.pct}`}` }
}

function alignment(fromDomain: string, ids: Identifiers, record: DmarcRecord): 'dkim' | 'spf' | undefined {
  for (const sig of ids.dkim) {
    const d = hostDomain(sig.domain)
    if (sig.result === 'pass' && d && isAligned(fromDomain, d, record.adkim)) return 'dkim'
  }
  const spfDomain = ids.spf && hostDomain(ids.spf.domain)
  if (ids.spf?.result === 'pass' && spfDomain && isAligned(fromDomain, spfDomain, record.aspf)) return 'spf'
  return undefined
}

/** How bad an outcome is, to pick the one that counts when From names several domains. */
function severity(o: DmarcOutcome): number {
  if (o.result === 'fail') return o.policy === 'reject' ? 5 : o.policy === 'quarantine' ? 4 : 2
  if (o.result === 'temperror') return 3
  if (o.result === 'none') return 1
  return 0
}

/**
 * DMARC for every author domain of the message; the most severe outcome counts
 * (RFC 7489 6.6.1 allows this for several From addresses, and it stops a
 * spoofed domain from hiding behind a second, passing one).
 */
export async function evaluateAuthors(
  domains: readonly string[],
  ids: Identifiers,
  resolveTxt: TxtResolver,
  random?: () => number,
): Promise<DmarcOutcome> {
  if (domains.length === 0) return { result: 'none', domain: '', detail: 'no From address' }
  const outcomes = await Promise.all(domains.map((d) => evaluateDmarc(d, ids, resolveTxt, random)))
  return outcomes.reduce((worst, o) => (severity(o) > severity(worst) ? o : worst))
}
