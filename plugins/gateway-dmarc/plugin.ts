// gateway-dmarc (inbound only): acts on sender authentication. haraka-plugin-spf
// (MAIL) and haraka-plugin-dkim (data_post) only record their results; this
// plugin, listed after both (declared, checked at startup), turns SPF and DKIM failures into decisions,
// evaluates DMARC for the From domain(s), and owns the Authentication-Results
// header: it deletes forged ones claiming our authserv-id and adds the dmarc
// entry to the one header Haraka writes. Outbound mail is never checked here.

import { authorDomains } from '../../lib/sender-auth/author-domains'
import { rawFields } from '../../lib/address/authors'
import { dmarcEntry, normalizeDkimEntry, stripClaims } from '../../lib/sender-auth/auth-results-header'
import { evaluateAuthors, type DmarcOutcome } from '../../lib/sender-auth/dmarc'
import { authSummary, type AuthSummary } from '../../lib/sender-auth/results'
import { txtResolver } from '../../lib/sender-auth/txt-resolver'
import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'
import { AUTHENTICATION_RESULTS } from '../../lib/plugin/haraka-notes'
import { actionField, decide, type Finding } from '../../lib/policy/actions'
import { reply } from '../../lib/smtp/reply'

const schema = {
  spf: {
    /** SPF fail (-all): the sender's domain says this client may not send for it. */
    fail_action: actionField('tag'),
    /** SPF softfail (~all): probably not authorized. */
    softfail_action: actionField('monitor'),
  },
  dkim: {
    /** The message is signed, but no signature verifies (altered or forged). */
    fail_action: actionField('tag'),
  },
  dmarc: {
    /** DMARC fail where the From domain publishes p=reject (after sp= and pct=). */
    p_reject_action: actionField('reject'),
    /** DMARC fail where the From domain publishes p=quarantine. */
    p_quarantine_action: actionField('quarantine'),
    /** DMARC fail where the From domain publishes p=none (monitoring only). */
    p_none_action: actionField('tag'),
    /** The From domain's DMARC record could not be fetched (DNS failure). */
    temperror_action: actionField('tag'),
    /** Longest wait for one DMARC TXT lookup, in milliseconds. */
    dns_timeout_ms: field.int({ default: 5000, min: 100, max: 15_000 }),
  },
}

const REPLIES = {
  spf: reply(550, '5.7.23', 'Sender address not authorized for this client (SPF)'),
  dkim: reply(550, '5.7.20', 'No valid DKIM signature found'),
  dmarc: reply(550, '5.7.1', 'Message rejected by the sender domain policy (DMARC)'),
}

export = definePlugin({
  name: 'gateway-dmarc',
  instances: ['inbound'],
  hooks: ['mail', 'data_post'],
  config: schema,
  order: {
    after: {
      spf: 'it acts on the SPF result haraka-plugin-spf records at MAIL',
      dkim: 'it acts on the signatures haraka-plugin-dkim verifies at data_post',
    },
  },
  setup({ plugin, config: cfg }) {
    const resolveTxt = txtResolver(cfg.dmarc.dns_timeout_ms)

    const spfDecision = (c: Haraka.Connection) => {
      const spf = authSummary(c).spf
      if (!spf || (spf.result !== 'fail' && spf.result !== 'softfail')) return undefined
      const finding: Finding = {
        check: 'spf',
        result: spf.result,
        detail: `${spf.domain} does not authorize ${c.remote.ip}`,
        reply: REPLIES.spf,
        tag: `SPF ${spf.result} for ${spf.domain}`,
      }
      return decide(plugin, c, finding, spf.result === 'fail' ? cfg.spf.fail_action : cfg.spf.softfail_action)
    }

    const dkimDecision = (c: Haraka.Connection, summary: AuthSummary) => {
      // RFC 6376 6.1: any passing signature counts; a broken one next to it is no finding
      if (summary.dkim.some((s) => s.result === 'pass')) return undefined
      const failed = summary.dkim.filter((s) => s.result === 'fail')
      if (failed.length === 0) return undefined
      const domains = [...new Set(failed.map((s) => s.domain))].join(' ')
      const finding: Finding = { check: 'dkim', result: 'fail', detail: `signature of ${domains} does not verify`, reply: REPLIES.dkim, tag: `DKIM fail for ${domains}` }
      return decide(plugin, c, finding, cfg.dkim.fail_action)
    }

    const dmarcDecision = (c: Haraka.Connection, o: DmarcOutcome) => {
      if (o.result === 'temperror') {
        const finding: Finding = { check: 'dmarc', result: 'temperror', detail: `${o.domain}: ${o.detail ?? ''}`, reply: REPLIES.dmarc, tag: `DMARC not checked for ${o.domain}` }
        return decide(plugin, c, finding, cfg.dmarc.temperror_action)
      }
      if (o.result !== 'fail' || !o.policy) return undefined
      const action = o.policy === 'reject' ? cfg.dmarc.p_reject_action : o.policy === 'quarantine' ? cfg.dmarc.p_quarantine_action : cfg.dmarc.p_none_action
      const finding: Finding = {
        check: 'dmarc',
        result: `fail_p_${o.policy}`,
        detail: `${o.domain}: no aligned SPF or DKIM pass (${o.detail ?? ''})`,
        reply: REPLIES.dmarc,
        tag: `DMARC fail for ${o.domain} (p=${o.policy})`,
      }
      return decide(plugin, c, finding, action)
    }

    /** Our Authentication-Results entries, and no forged ones (before any result is read). */
    const policeResults = (c: Haraka.Connection, txn: Haraka.Transaction) => {
      const forged = stripClaims(txn, c.local.host ?? '')
      if (forged > 0) {
        c.lognotice(plugin, `deleted ${forged} Authentication-Results field(s) forged with our authserv-id or in obsolete syntax`)
        txn.results.add(plugin, { msg: `forged_auth_results:${forged}` })
      }
      // haraka-plugin-dkim's own words ("invalid", "tempfail") in RFC 8601 terms
      const entries = AUTHENTICATION_RESULTS.get(txn)
      if (Array.isArray(entries)) AUTHENTICATION_RESULTS.set(txn, entries.map(normalizeDkimEntry))
      const dkimSkipped = txn.results.get('dkim')?.skip
      if (Array.isArray(dkimSkipped) && dkimSkipped.includes('no/bad signature')) c.auth_results('dkim=none')
    }

    const dmarc = async (c: Haraka.Connection, txn: Haraka.Transaction, summary: AuthSummary) => {
      const ids = { ...(summary.spf ? { spf: summary.spf } : {}), dkim: summary.dkim }
      const outcome = await evaluateAuthors(authorDomains(rawFields(txn.header.header_list, 'From').map((f) => f.value)), ids, resolveTxt)
      const policy = outcome.policy ?? outcome.published
      txn.results.add(plugin, { result: outcome.result, domain: outcome.domain, ...(policy ? { policy } : {}) })
      c.auth_results(dmarcEntry(outcome.result, outcome.domain, outcome.published))
      c.loginfo(plugin, `dmarc=${outcome.result} domain=${outcome.domain || '-'}${outcome.alignedWith ? ` aligned=${outcome.alignedWith}` : ''}${policy ? ` policy=${policy}` : ''}`)
      return outcome
    }

    return {
      hooks: {
        // after haraka-plugin-spf's own mail hook has recorded its result
        mail: (c) => spfDecision(c),

        // after haraka-plugin-dkim's data_post has verified the signatures
        async data_post(c, txn) {
          policeResults(c, txn)
          const summary = authSummary(c)
          const outcome = await dmarc(c, txn, summary)
          return dmarcDecision(c, outcome) ?? dkimDecision(c, summary)
        },
      },
    }
  },
})
