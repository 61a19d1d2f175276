// gateway-stats: counts what each instance does, per UTC day, in Redis:
// one hash per instance (= mail direction) and day, shared by every gateway node.
// Counting never touches the mail path: increments go into the process's write
// batch (lib/redis/shared-batch.ts), written once a second; a Redis outage delays
// the numbers only.

import { definePlugin } from '../../lib/plugin/define'
import { acquireWriteBatch } from '../../lib/redis/shared-batch'
import { setDecisionSink } from '../../lib/stats/decisions'
import { STAT, statForDenial } from '../../lib/stats/fields'

export = definePlugin({
  name: 'gateway-stats',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init', 'rcpt_ok', 'queue_ok', 'deny'],
  setup({ plugin, instance }) {
    const shared = acquireWriteBatch(instance, (level, msg) =>
      level === 'error' ? plugin.logerror(msg) : level === 'warn' ? plugin.logwarn(msg) : plugin.lognotice(msg),
    )
    const count = shared.count
    setDecisionSink(count) // checks' decisions: "check:<name>:<action>" counters

    return {
      hooks: {
        connect_init() {
          count(STAT.connections)
        },
        rcpt_ok() {
          count(STAT.recipientsAccepted)
        },
        queue_ok(_c, txn) {
          count(STAT.messagesAccepted)
          count(STAT.bytesAccepted, txn.data_bytes)
        },
        deny(_c, [code, , , , , hook]) {
          const field = statForDenial(hook, code)
          if (field) count(field)
        },
      },
      async shutdown() {
        setDecisionSink(undefined)
        await shared.release()
      },
    }
  },
})
