// gateway-org-stamp (INBOUND ONLY): every message accepted from the Internet
// gets one signed X-Gateway-Org header (lib/org/header.ts) saying what inbound
// knew about it: its record id, node, time, SCL, SPF/DKIM/DMARC results and
// every check's decision. Internal servers may read it (rules on SCL or checks);
// outbound trusts it again, after verifying the signature, when an internal
// server relays the message (gateway-org-verify). Written at the queue hook,
// when every check has decided, and before gateway-spool (declared, checked at
// startup), whose answer ends the queue hook. A header arriving from the
// Internet never survives: gateway-header-firewall strips X-Gateway-*, and any
// X-Gateway-Org still present is removed here before ours is added.
// Without a readable key file the message cannot be stamped: the adapter answers
// 451 4.3.0 and logs the reason (the sender retries), never an unsigned pass.

import { deploymentPath } from '../../lib/config/paths'
import { formatOrgHeader, messageIdDigest, ORG_HEADER } from '../../lib/org/header'
import { OrgKeyStore } from '../../lib/org/key-store'
import { messageIdsOf, removeOrgFields } from '../../lib/org/message-fields'
import { stampInput } from '../../lib/org/stamp-fields'
import { definePlugin } from '../../lib/plugin/define'

export = definePlugin({
  name: 'gateway-org-stamp',
  instances: ['inbound'],
  hooks: ['queue'],
  order: {
    before: { 'gateway-spool': 'gateway-spool ends the queue hook: the header must be in the message before it is spooled' },
  },
  setup({ plugin, gateway }) {
    const { node, org } = gateway.settings
    const keys = new OrgKeyStore(deploymentPath(org.key_file), Date.now, (m) => plugin.lognotice(m))
    plugin.loginfo(`stamping ${ORG_HEADER} as node ${node.name} with key ${keys.signingKey().id}`)

    return {
      hooks: {
        queue(c, txn) {
          const now = Date.now()
          const { omitted, ...known } = stampInput(c, txn)
          const value = formatOrgHeader(
            { id: txn.uuid, node: node.name, t: Math.floor(now / 1000), mid: messageIdDigest(messageIdsOf(txn.header.header_list)), ...known },
            keys.signingKey(),
          )
          if (omitted > 0) c.logwarn(plugin, `${omitted} decision(s) left out of ${ORG_HEADER} to keep it one line (X-Gateway-Checks lists them all)`)
          const forged = removeOrgFields(txn)
          if (forged > 0) c.lognotice(plugin, `removed ${forged} ${ORG_HEADER} field(s) that did not come from this gateway`)
          txn.add_leading_header(ORG_HEADER, value)
          return undefined // gateway-spool queues it next
        },
      },
    }
  },
})
