// gateway-recipient-limit: the example plugin of the README ("how to write a
// plugin"). It caps the recipients of one message, a classic defence against a
// compromised account blasting a thousand addresses in one go. It shows the whole
// pattern: a declaration (where it runs, its hooks, its typed settings), a
// feature that registers no hook when disabled, a result recorded for other
// plugins and logs, and a verdict with proper codes. Unit test: plugin.test.ts.

import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'
import { tempfail } from '../../lib/plugin/verdict'

const schema = {
  main: {
    /** Most recipients one message may have; 0 turns the check off. */
    max_recipients: field.int({ default: 0, min: 0, max: 100_000 }),
  },
}

export = definePlugin({
  name: 'gateway-recipient-limit',
  instances: ['inbound', 'outbound'],
  hooks: ['rcpt'],
  config: schema,
  setup({ plugin, config }) {
    const max = config.main.max_recipients
    if (max === 0) return { hooks: {} } // disabled: nothing registered, nothing to go wrong

    return {
      hooks: {
        rcpt(_c, txn) {
          // Haraka appends the recipient being checked before running rcpt hooks.
          if (txn.rcpt_to.length <= max) return undefined
          txn.results.add(plugin, { fail: 'max_recipients', max })
          // 452 is RFC 5321's answer to "too many recipients": the client sends the rest in another message.
          return tempfail(452, '4.5.3', 'Too many recipients')
        },
      },
    }
  },
})
