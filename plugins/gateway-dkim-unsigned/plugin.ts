// gateway-dkim-unsigned (inbound): mail that carries no DKIM-Signature field skips
// haraka-plugin-dkim's verification. To find signatures the plugin reads the whole
// stored message through its verifier (verify_message: a pipe of the message
// stream), ~0.15 ms of the main thread per 4 KiB message (issue 12, perf), and
// without a signature the outcome is fixed: it records { skip: 'no/bad signature' }
// under "dkim", which gateway-dmarc turns into dkim=none. This plugin records that
// same result and asks Haraka to skip the plugin for the transaction
// (transaction.notes.skip_plugins, Haraka's documented way). A message with at least
// one DKIM-Signature field, well-formed or not, goes to the plugin as before. The
// field is looked up in the header Haraka parsed, which is also the header the
// message stream gives the verifier: a field Haraka did not keep was never verified.

import { definePlugin } from '../../lib/plugin/define'
import { SKIP_PLUGINS } from '../../lib/plugin/haraka-notes'
import { DKIM_PLUGIN as DKIM } from '../../lib/sender-auth/dkim-unsigned'

export = definePlugin({
  name: 'gateway-dkim-unsigned',
  instances: ['inbound'],
  hooks: ['data_post'],
  order: { before: { [DKIM]: 'it decides before haraka-plugin-dkim verifies at data_post whether there is anything to verify' } },
  setup() {
    return {
      hooks: {
        data_post(_c, txn) {
          if (txn.header.get_all('DKIM-Signature').length > 0) return undefined
          const skip = SKIP_PLUGINS.get(txn)
          if (!skip) return undefined // no list to add to: the plugin verifies, as without this one
          skip.push(DKIM)
          // what haraka-plugin-dkim records for a message without a signature
          txn.results.add({ name: DKIM }, { skip: 'no/bad signature' })
          return undefined
        },
      },
    }
  },
})
