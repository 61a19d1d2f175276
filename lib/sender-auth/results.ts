// What sender authentication found for the current message, in one shape for
// every plugin that needs it (sender filter, DMARC). Read from the records that
// haraka-plugin-spf, haraka-plugin-dkim and gateway-dmarc leave on the
// connection and transaction; inbound only (outbound runs none of them).

import { hostDomain } from '../address/domain'
import { isAligned } from './org-domain'
import { DKIM_RESULTS as DKIM_NOTES } from '../plugin/haraka-notes'

export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy'

export interface AuthSummary {
  /** SPF result for the MAIL FROM identity (or HELO for the null sender), once the spf plugin ran (mail hook). */
  spf?: { result: AuthResult; domain: string }
  /** One entry per DKIM signature, after DKIM verification ran (data_post). */
  dkim: { result: AuthResult; domain: string; selector?: string }[]
  /** After gateway-dmarc ran. */
  dmarc?: { result: AuthResult; domain: string; policy?: string }
}

/** The plugin names whose records are read (as listed in config/plugins). */
export const SPF_PLUGIN = 'spf'
export const DMARC_PLUGIN = 'gateway-dmarc'

const RESULTS: ReadonlySet<string> = new Set<AuthResult>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy'])

// haraka-plugin-dkim's words for a signature's result, in RFC 8601 terms
const DKIM_RESULTS = new Map<string, AuthResult>([
  ['pass', 'pass'],
  ['fail', 'fail'],
  ['invalid', 'permerror'],
  ['tempfail', 'temperror'],
])

function asResult(raw: unknown): AuthResult | undefined {
  if (typeof raw !== 'string') return undefined
  const r = raw.toLowerCase()
  return RESULTS.has(r) ? (r as AuthResult) : undefined
}

/** SPF as haraka-plugin-spf recorded it: MAIL FROM on the transaction, HELO on the connection. */
function spfOf(c: Haraka.Connection): AuthSummary['spf'] {
  const txn = c.transaction
  const mfrom = txn?.results.get(SPF_PLUGIN)
  const mfromResult = asResult(mfrom?.result)
  if (mfrom?.scope === 'mfrom' && mfromResult && typeof mfrom.domain === 'string') {
    return { result: mfromResult, domain: mfrom.domain.toLowerCase() }
  }
  // the null sender is identified by its HELO name (RFC 7208 2.4)
  if (!txn?.mail_from?.isNull()) return undefined
  const helo = c.results.get(SPF_PLUGIN)
  const heloResult = asResult(helo?.result)
  if (helo?.scope === 'helo' && heloResult && typeof helo.domain === 'string') {
    return { result: heloResult, domain: helo.domain.toLowerCase() }
  }
  return undefined
}

function dkimOf(c: Haraka.Connection): AuthSummary['dkim'] {
  const notes = c.transaction ? DKIM_NOTES.get(c.transaction) : undefined
  const list = Array.isArray(notes) ? notes : []
  return list.map((sig) => {
    const entry: AuthSummary['dkim'][number] = {
      result: DKIM_RESULTS.get(String(sig.result)) ?? 'neutral',
      domain: typeof sig.domain === 'string' ? sig.domain.toLowerCase() : '',
    }
    if (typeof sig.selector === 'string') entry.selector = sig.selector
    return entry
  })
}

function dmarcOf(c: Haraka.Connection): AuthSummary['dmarc'] {
  const rec = c.transaction?.results.get(DMARC_PLUGIN)
  const result = asResult(rec?.result)
  if (!rec || !result || typeof rec.domain !== 'string') return undefined
  const out: NonNullable<AuthSummary['dmarc']> = { result, domain: rec.domain }
  if (typeof rec.policy === 'string') out.policy = rec.policy
  return out
}

export function authSummary(c: Haraka.Connection): AuthSummary {
  const summary: AuthSummary = { dkim: dkimOf(c) }
  const spf = spfOf(c)
  if (spf) summary.spf = spf
  const dmarc = dmarcOf(c)
  if (dmarc) summary.dmarc = dmarc
  return summary
}

/** True when `domain` is aligned (relaxed: same organizational domain) with a passing SPF or DKIM identity. */
export function alignedPass(summary: AuthSummary, domain: string): boolean {
  const wanted = hostDomain(domain)
  if (!wanted) return false
  const passes = (id: { result: AuthResult; domain: string } | undefined) => {
    const d = id?.result === 'pass' ? hostDomain(id.domain) : undefined
    return d !== undefined && isAligned(wanted, d, 'relaxed')
  }
  return passes(summary.spf) || summary.dkim.some(passes)
}
