// gateway-org-verify (OUTBOUND ONLY): an internal server relaying a message that
// came in through inbound (forward, redirect) brings inbound's signed
// X-Gateway-Org header along. After DATA, every such field is removed (it never
// leaves for the Internet, and a copy that stays inside is ours to rewrite) and
// at most one is believed: only from an authenticated session (AUTH or a pinned
// client certificate: on this instance exactly the sessions allowed to relay),
// with a valid signature by a known, unretired key, a time neither older than
// [org] max_age nor more than 5 minutes ahead, and the message's own Message-ID.
// Every other one is recorded (check org-header, action accept: log line,
// counter check:org-header:accept, result says why) and dropped.
// A verified header becomes the transaction's inbound history
// (lib/org/verified.ts) and is judged by the outbound history policy
// (gateway-org-verify.ini [policy]): a message inbound classed as virus, spam
// or DMARC failure can be refused, deferred, tagged or let through on the record.

import { deploymentPath } from '../../lib/config/paths'
import { field } from '../../lib/config/schema'
import { ORG_HEADER, verifyOrgHeader, type OrgFields } from '../../lib/org/header'
import { historyFindings, historyOf, type HistoryFinding } from '../../lib/org/history'
import { OrgKeyStore } from '../../lib/org/key-store'
import { messageIdsOf, orgFieldValues, removeOrgFields } from '../../lib/org/message-fields'
import { setVerifiedOrgHistory, type VerifiedOrgHistory } from '../../lib/org/verified'
import { definePlugin } from '../../lib/plugin/define'
import type { Verdict } from '../../lib/plugin/verdict'
import { decide, type Finding } from '../../lib/policy/actions'
import { record } from '../../lib/policy/record'
import { reply } from '../../lib/smtp/reply'

/** What an operator may do with a message's inbound history here (quarantine is an inbound matter). */
const HISTORY_ACTIONS = ['reject', 'tempfail', 'tag', 'monitor', 'accept'] as const

const schema = {
  policy: {
    /** Inbound's virus check found a virus in the message. */
    virus: field.oneOf(HISTORY_ACTIONS, { default: 'reject' }),
    /** Inbound classed the message as spam: SCL at or over spam_scl, or the spam check tagged, quarantined or refused it. */
    spam: field.oneOf(HISTORY_ACTIONS, { default: 'monitor' }),
    /** DMARC failed for the message at inbound. */
    dmarc_fail: field.oneOf(HISTORY_ACTIONS, { default: 'monitor' }),
    /** The SCL from which a message counts as spam (1-9). */
    spam_scl: field.int({ default: 5, min: 1, max: 9 }),
  },
}

const CHECK_HEADER = 'org-header'
const CHECK_HISTORY = 'org-history'
/** Generic: the sender learns no more than that the message is refused by policy. */
const REFUSED = reply(550, '5.7.1', 'Message rejected by content policy')
const TAGS: Record<HistoryFinding, string> = {
  virus: 'inbound found a virus in this message',
  spam: 'inbound classed this message as spam',
  dmarc_fail: 'DMARC failed for this message at inbound',
}

export = definePlugin({
  name: 'gateway-org-verify',
  instances: ['outbound'],
  hooks: ['data_post'],
  config: schema,
  order: {
    after: { 'gateway-submission-auth': 'it trusts the header only from sessions gateway-submission-auth authenticated' },
    before: { 'gateway-outbound-scrub': 'the header is judged before the scrub removes X-Gateway-* fields' },
  },
  setup({ plugin, config: { policy }, gateway }) {
    const { org } = gateway.settings
    const keys = new OrgKeyStore(deploymentPath(org.key_file), Date.now, (m) => plugin.lognotice(m))

    /** A header that is not believed: removed already; recorded here (never written into the message). */
    const distrust = (c: Haraka.Connection, result: string, detail: string) =>
      record(plugin, c, { check: CHECK_HEADER, result, action: 'accept', detail }, { marks: false })

    const applyPolicy = (c: Haraka.Connection, history: VerifiedOrgHistory): Verdict | undefined => {
      let verdict: Verdict | undefined
      for (const { finding, detail } of historyFindings(history, policy.spam_scl)) {
        const found: Finding = { check: CHECK_HISTORY, result: finding, detail: `record ${history.recordId} from ${history.node}: ${detail}`, reply: REFUSED, tag: TAGS[finding] }
        const v = decide(plugin, c, found, policy[finding]) // every finding is recorded; the first refusal answers
        verdict ??= v
      }
      return verdict
    }

    return {
      hooks: {
        data_post(c, txn) {
          const values = orgFieldValues(txn.header.header_list)
          if (values.length === 0) return undefined
          removeOrgFields(txn)
          // On this instance relaying is granted only by gateway-submission-auth (AUTH or a pinned certificate).
          if (!c.relaying) {
            for (let i = 0; i < values.length; i++) distrust(c, 'untrusted_session', 'header from a session that is not authenticated')
            return undefined
          }
          const messageIds = messageIdsOf(txn.header.header_list)
          const now = Date.now()
          let trusted: OrgFields | undefined
          for (const value of values) {
            const v = verifyOrgHeader(value, { messageIds, now, maxAgeSeconds: org.max_age, keyFor: (kid) => keys.lookup(kid) })
            if (!v.ok) distrust(c, v.failure, v.detail)
            else if (trusted) distrust(c, 'duplicate', `a second valid header (record ${v.fields.id}); the first (record ${trusted.id}) counts`)
            else trusted = v.fields
          }
          if (!trusted) return undefined
          const history = historyOf(trusted)
          setVerifiedOrgHistory(txn, history)
          c.loginfo(plugin, `verified ${ORG_HEADER} of record ${trusted.id} from node ${trusted.node} (key ${trusted.kid}, scl=${trusted.scl ?? '-'})`)
          return applyPolicy(c, history)
        },
      },
    }
  },
})
