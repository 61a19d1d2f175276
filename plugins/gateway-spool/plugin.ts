// gateway-spool (both instances): every accepted message is written to Haraka's
// durable queue (fsynced, renamed into place) before the client gets its 250.
// Delivery then happens from disk, with retries: inbound to the internal servers,
// outbound to the Internet (routing is gateway-routing's job). A spool failure
// is a 451 4.3.0 so the sender retries; Haraka's own fallback would answer 550.

import * as constants from 'haraka-constants'

import { definePlugin } from '../../lib/plugin/define'
import { accept, deny, type Verdict } from '../../lib/plugin/verdict'
import { REPLIES } from '../../lib/smtp/reply'

export = definePlugin({
  name: 'gateway-spool',
  setup({ plugin }) {
    const outbound = plugin.haraka_require('./outbound') as Haraka.Outbound
    const spool = (c: Haraka.Connection) =>
      new Promise<Verdict>((resolve) => {
        const txn = c.transaction
        if (!txn) return resolve(deny(REPLIES.localError))
        outbound.send_trans_email(txn, (code, msg) => {
          // Haraka appends " (<transaction id>)" to this text.
          if (code === constants.ok) return resolve(accept('2.0.0 Message queued'))
          c.logerror(plugin, `spooling failed: ${msg ?? 'unknown error'}`)
          resolve(deny(REPLIES.localError))
        })
      })
    return { hooks: { queue: spool, queue_outbound: spool } }
  },
})
