// gateway-spool (both instances): every accepted message is written to disk
// before the client gets its 250: normally to Haraka's durable queue (fsynced,
// renamed into place), from which it is delivered with retries (inbound to the
// internal servers, outbound to the Internet; routing is gateway-routing's job);
// or, if a check decided so, to the quarantine. Just before, the decisions of the
// checks are written into the message's X-Gateway-* headers. A spool failure is a
// 4xx so the sender retries (Haraka's own fallback would answer 550). Its answer
// ends the queue hooks, so every other queue plugin comes before it (checked at
// startup), and haraka-plugin-dkim after it (it signs what was queued).

import path from 'node:path'
import * as constants from 'haraka-constants'

import { instanceConfigDir } from '../../lib/config/paths'
import { DKIM_PLUGIN } from '../../lib/sender-auth/dkim-unsigned'
import { outboundModule, queueDir as harakaQueueDir } from '../../lib/haraka'
import { receivedMessage, type ReceivedTransaction } from '../../lib/haraka/received-message'
import { definePlugin } from '../../lib/plugin/define'
import { acceptAndStop, deny, type Verdict } from '../../lib/plugin/verdict'
import { applyMarks, quarantineOf } from '../../lib/policy/marks'
import { quarantineDir, spoolSchema } from '../../lib/quarantine/settings'
import { QuarantineStore } from '../../lib/quarantine/store'
import { reply, REPLIES } from '../../lib/smtp/reply'
import { quarantineMeta, trackQuarantine } from '../../lib/tracking/emit'
import { FreeSpaceCheck } from '../../lib/queue/free-space'

// Haraka appends " (<transaction id>)". Quarantined mail gets the same answer:
// the sender must not learn which of its messages were held.
const QUEUED = '2.0.0 Message queued'
const INSUFFICIENT_STORAGE = reply(452, '4.3.1', 'Insufficient system storage, please try again later')

export = definePlugin({
  name: 'gateway-spool',
  instances: ['inbound', 'outbound'],
  hooks: ['queue', 'queue_outbound'],
  config: spoolSchema,
  order: {
    endsChain: ['queue', 'queue_outbound'],
    // where haraka-plugin-dkim signs (on inbound it only verifies, at data_post)
    outbound: {
      before: { [DKIM_PLUGIN]: 'listed before it, haraka-plugin-dkim would sign at queue_outbound, before the gateway marks are written and scrubbed' },
    },
  },
  setup({ plugin, config: cfg }) {
    const outbound = outboundModule(plugin)
    const quarantine = new QuarantineStore(quarantineDir(path.dirname(instanceConfigDir())))

    const toQueue = (c: Haraka.Connection, txn: Haraka.Transaction) =>
      new Promise<Verdict>((resolve) => {
        outbound.send_trans_email(txn, (code, msg) => {
          if (code === constants.ok) return resolve(acceptAndStop(QUEUED))
          c.logerror(plugin, `spooling failed: ${msg ?? 'unknown error'}`)
          resolve(deny(REPLIES.localError))
        })
      })

    const toQuarantine = async (c: Haraka.Connection, txn: Haraka.Transaction, why: { check: string; result: string }) => {
      // SMTP dot-stuffing removed, the message as a mail client sees it, with every header line received
      // (Haraka's own stream stops at connection.ini [headers] max_lines)
      const stream = await receivedMessage(txn as Haraka.Transaction & ReceivedTransaction)
      const entry = await quarantine.put(
        {
          from: txn.mail_from.address,
          to: txn.rcpt_to.map((r) => r.address),
          check: why.check,
          result: why.result,
          remoteIp: c.remote.ip,
          helo: c.hello.host ?? '',
          messageId: txn.header.get('Message-ID').trim(),
          subject: txn.header.get_decoded('Subject').trim(),
          ...quarantineMeta(txn), // the tracking record id, so a release is tracked on the same record
        },
        stream,
      )
      c.lognotice(plugin, `quarantined as ${entry.id} (${why.check}: ${why.result})`)
      trackQuarantine(c, txn, { quarantineId: entry.id, check: why.check, result: why.result })
      return acceptAndStop(QUEUED)
    }

    const reserve = cfg.queue.min_free_mb * 1024 * 1024
    const queueDir = harakaQueueDir(plugin)
    const freeSpace = new FreeSpaceCheck()

    const spool = async (c: Haraka.Connection, txn: Haraka.Transaction): Promise<Verdict> => {
      applyMarks(c, { subjectPrefix: cfg.tag.subject_prefix })
      const held = quarantineOf(c)
      const dir = held ? quarantine.dir : queueDir
      const { ok, free } = await freeSpace.room(dir, txn.data_bytes, reserve)
      if (!ok) {
        c.logerror(plugin, `not enough free space in ${dir} (${Math.floor(free / 1048576)} MiB free, reserve ${cfg.queue.min_free_mb} MiB): mail is deferred`)
        return deny(INSUFFICIENT_STORAGE)
      }
      return held ? toQuarantine(c, txn, held) : toQueue(c, txn)
    }
    return { hooks: { queue: spool, queue_outbound: spool } }
  },
})
