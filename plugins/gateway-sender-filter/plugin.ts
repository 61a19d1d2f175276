// gateway-sender-filter (inbound): Internet mail claiming to come from one of our
// own (accepted) domains is refused: legitimate internal mail never enters
// through the Internet gateway, so such mail is spoofing (CEO fraud, phishing).
// Checked on the envelope (MAIL FROM, before any data is sent) and on the header
// From (what users see, after DATA). Exceptions are configurable (a SaaS sender
// allowed to send as the domain) and only pass when SPF or DKIM for that sender
// aligns. Protected addresses (executives, service aliases) never pass from
// outside, exception or not. A block list refuses senders outright.
// Runs after spf (mail) and after dkim (data_post): declared, checked at startup.

import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'
import { transactionState } from '../../lib/plugin/state'
import type { Verdict } from '../../lib/plugin/verdict'
import { actionField, decide, type Action, type Finding } from '../../lib/policy/actions'
import { alignedPass, authSummary } from '../../lib/sender-auth/results'
import { authorCandidates } from '../../lib/address/authors'
import { domainOf, SenderPatterns } from '../../lib/address/patterns'
import { reply } from '../../lib/smtp/reply'

const patterns = (items: string[]) => new SenderPatterns(items)

const schema = {
  spoofing: {
    /** Internet mail using an accepted domain as sender. */
    action: actionField('reject'),
    /** Senders allowed to use an accepted domain from outside when SPF or DKIM aligns: address, domain or *.domain. */
    allow: field.listOf(patterns),
  },
  protected: {
    /** Addresses that must never arrive from outside as sender, not even through an allow entry. */
    addresses: field.listOf(patterns),
    action: actionField('reject'),
  },
  blocklist: {
    /** Senders refused outright (envelope or header From): address, domain or *.domain. */
    senders: field.listOf(patterns),
    action: actionField('reject'),
  },
}

const SPOOFED = reply(550, '5.7.1', 'Sender address rejected: not accepted from the Internet')
const BLOCKED = reply(550, '5.7.1', 'Sender address rejected: Access denied')

/** An allowed sender whose envelope did not align yet: DKIM (after DATA) may still align it. */
const PENDING = transactionState<string>('gateway_sender_pending')

export = definePlugin({
  name: 'gateway-sender-filter',
  instances: ['inbound'],
  hooks: ['mail', 'data_post'],
  config: schema,
  order: {
    after: {
      spf: 'an allowed sender passes only with aligned SPF, which haraka-plugin-spf records at MAIL',
      dkim: 'an allowed sender passes only with aligned DKIM, which haraka-plugin-dkim verifies at data_post',
    },
  },
  setup({ plugin, config: cfg, gateway }) {
    const { acceptedDomains } = gateway
    const act = (c: Haraka.Connection, f: Finding, action: Action) => decide(plugin, c, f, action)

    /** The first decision that stops the message, checking one sender address seen at `where`. */
    const judge = (c: Haraka.Connection, address: string, where: 'envelope' | 'header'): Verdict | undefined | 'pending' => {
      const blocked = cfg.blocklist.senders.match(address)
      if (blocked) return act(c, { check: 'sender-blocklist', result: `blocked_${where}`, detail: `${address} matches ${blocked}`, reply: BLOCKED }, cfg.blocklist.action)
      const domain = domainOf(address)
      if (!acceptedDomains.has(domain)) return undefined
      if (cfg.protected.addresses.match(address)) {
        return act(c, { check: 'sender-protected', result: `protected_${where}`, detail: address, reply: SPOOFED }, cfg.protected.action)
      }
      const allowed = cfg.spoofing.allow.match(address)
      if (allowed) {
        if (alignedPass(authSummary(c), domain)) return undefined
        if (where === 'envelope') return 'pending'
        return act(c, { check: 'sender-spoofing', result: 'allowed_sender_unaligned', detail: `${address} (allowed by ${allowed}) without aligned SPF/DKIM`, reply: SPOOFED }, cfg.spoofing.action)
      }
      return act(c, { check: 'sender-spoofing', result: `internal_domain_${where}`, detail: address, reply: SPOOFED }, cfg.spoofing.action)
    }

    return {
      hooks: {
        mail(c, txn, [from]) {
          if (from.isNull()) return undefined // bounces carry no sender to judge
          const outcome = judge(c, from.address, 'envelope')
          if (outcome !== 'pending') return outcome
          PENDING.set(txn, from.address)
          return undefined
        },
        data_post(c, txn) {
          const pending = PENDING.get(txn)
          if (pending) {
            const v = judge(c, pending, 'header') // DKIM has run now: align or refuse
            if (v) return v === 'pending' ? undefined : v
          }
          // every From field, parsed as clients parse it (unparseable ones: every address-like token)
          for (const address of authorCandidates(txn.header.header_list)) {
            const v = judge(c, address, 'header')
            if (v && v !== 'pending') return v
          }
          return undefined
        },
      },
    }
  },
})
