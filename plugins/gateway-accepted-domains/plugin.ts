// gateway-accepted-domains (inbound): RCPT is accepted only for the organisation's
// accepted domains (config/accepted_domains); everything else is relaying, which
// the Internet-facing instance never does. Its answer ends the rcpt hook (an
// accepted recipient is final), so every other rcpt check (recipient validation,
// limits) must be listed before it: declared below, checked at startup.

import { canonicalDomain } from '../../lib/address/canonical'
import { definePlugin } from '../../lib/plugin/define'
import { acceptAndStop, deny } from '../../lib/plugin/verdict'
import { REPLIES } from '../../lib/smtp/reply'

export = definePlugin({
  name: 'gateway-accepted-domains',
  instances: ['inbound'],
  hooks: ['rcpt'],
  order: { endsChain: ['rcpt'] },
  setup({ plugin, gateway }) {
    const domains = gateway.acceptedDomains
    return {
      hooks: {
        rcpt(_c, txn, [rcpt]) {
          const domain = canonicalDomain(rcpt.host ?? '') // ceo@bücher.example is ceo@xn--bcher-kva.example
          if (domains.has(domain)) {
            txn.results.add(plugin, { pass: 'accepted_domain', domain })
            return acceptAndStop()
          }
          txn.results.add(plugin, { fail: 'accepted_domain', domain })
          return deny(REPLIES.relayDenied)
        },
      },
    }
  },
})
