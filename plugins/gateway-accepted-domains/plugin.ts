// gateway-accepted-domains (inbound): RCPT is accepted only for the organisation's
// accepted domains (config/accepted_domains); everything else is relaying, which
// the Internet-facing instance never does. Later checks (recipient validation)
// run before this plugin; this is the final say on the domain.

import { gatewayConfig } from '../../lib/config/gateway'
import { canonicalDomain } from '../../lib/mail/canonical'
import { definePlugin } from '../../lib/plugin/define'
import { accept, deny } from '../../lib/plugin/verdict'
import { REPLIES } from '../../lib/smtp/reply'

export = definePlugin({
  name: 'gateway-accepted-domains',
  setup({ plugin }) {
    const domains = gatewayConfig().acceptedDomains
    return {
      hooks: {
        rcpt(c, [rcpt]) {
          const domain = canonicalDomain(rcpt.host ?? '') // ceo@bücher.example is ceo@xn--bcher-kva.example
          if (domains.has(domain)) {
            c.transaction?.results.add(plugin, { pass: 'accepted_domain', domain })
            return accept()
          }
          c.transaction?.results.add(plugin, { fail: 'accepted_domain', domain })
          return deny(REPLIES.relayDenied)
        },
      },
    }
  },
})
