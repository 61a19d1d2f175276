// gateway-stats: counts what each instance does, per UTC day, in Redis:
// one hash per instance (= mail direction) and day, shared by every gateway node.
// Counting never touches the mail path: increments are buffered and written once
// a second (see lib/redis/counters.ts); a Redis outage delays the numbers only.

import { definePlugin } from '../../lib/plugin/define'
import { redisExpectedDown } from '../../lib/redis/client'
import { Counters } from '../../lib/redis/counters'
import { acquireGatewayRedis } from '../../lib/redis/gateway-redis'
import { dayOf } from '../../lib/redis/keys'
import { setDecisionSink } from '../../lib/stats/decisions'
import { STAT, statForDenial } from '../../lib/stats/fields'

const FLUSH_INTERVAL_MS = 1000

export = definePlugin({
  name: 'gateway-stats',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init', 'rcpt_ok', 'queue_ok', 'deny'],
  setup({ plugin, instance, gateway }) {
    let lastFlushError = 0
    const redis = acquireGatewayRedis((level, msg) => (level === 'error' ? plugin.logerror(msg) : plugin.lognotice(msg)))
    const counters = new Counters({
      redis: redis.client,
      ttlSeconds: gateway.settings.redis.stats_ttl_days * 86_400,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      errorField: STAT.redisWriteFailures,
      onError: (err) => {
        // standalone mode: keeping counters in memory is the plan, said once at start
        if (redisExpectedDown()) return
        // at most one line per outage burst: the Redis client logs the outage itself
        const now = Date.now()
        if (now - lastFlushError < 30_000) return
        lastFlushError = now
        plugin.logwarn(`counters kept in memory until Redis is back: ${err.message}`)
      },
    })
    counters.start()
    const count = (field: string, by = 1) => counters.incr(redis.keys.stats(instance, dayOf(new Date())), field, by)
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
        await counters.stop()
        await redis.release()
      },
    }
  },
})
