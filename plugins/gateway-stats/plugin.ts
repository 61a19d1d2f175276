// gateway-stats: counts what each instance does, in Redis: per instance and UTC
// day (shared by every gateway node: `gateway stats`) and per node, instance and
// minute/hour/day bucket (`gateway report`). Counting never touches the mail path:
// increments go into the process's write batch (lib/redis/shared-batch.ts),
// written once a second; a Redis outage delays the numbers only.
// Besides the SMTP steps it counts the delivery queue (deliveries and their bytes,
// deferrals, bounces), quarantined messages, AUTH successes, and once per message
// that ends (accepted, quarantined or refused at or after MAIL): its spam band, an
// infected verdict and, when refused or quarantined, the filter ROI (lib/stats/roi.ts).
// Once a minute it samples the instance's delivery-queue depth (queue files, shared by
// all cluster workers) into the node's buckets (lib/stats/queue-sample.ts).

import { gatewayConfig } from '../../lib/config/gateway'
import { queueDepth, queueDir, queueStatsReader } from '../../lib/haraka'
import { definePlugin } from '../../lib/plugin/define'
import { CONT } from '../../lib/plugin/verdict'
import { decisionsOf, quarantineOf } from '../../lib/policy/marks'
import { oldestAgeSeconds, queuedCount } from '../../lib/queue/oldest'
import { dayOf, type Direction } from '../../lib/redis/keys'
import { acquireWriteBatch, type SharedBatch } from '../../lib/redis/shared-batch'
import { setDecisionSink } from '../../lib/stats/decisions'
import { STAT, statForDenial } from '../../lib/stats/fields'
import { messageEndFields } from '../../lib/stats/message-end'
import { QueueSampler } from '../../lib/stats/queue-sample'

/** Hooks whose refusal ends a message attempt (RCPT refusals are per recipient: counted, but not messages). */
const MESSAGE_END_HOOKS: ReadonlySet<string> = new Set(['mail', 'data', 'data_post', 'queue', 'queue_outbound', 'max_data_exceeded'])

export = definePlugin({
  name: 'gateway-stats',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init', 'rcpt_ok', 'queue_ok', 'deny', 'disconnect', 'delivered', 'deferred', 'bounce'],
  // both may end a queue hook's chain: a deferral or bounce must be counted first
  order: {
    before: {
      'gateway-queue': 'it may end deferred (a deleted or held message): every deferral must be counted first',
      'gateway-bounce': 'it may drop a DSN at bounce, which ends the chain: every bounce must be counted first',
    },
  },
  setup({ plugin, instance }) {
    const shared = acquireWriteBatch(instance, (level, msg) =>
      level === 'error' ? plugin.logerror(msg) : level === 'warn' ? plugin.logwarn(msg) : plugin.lognotice(msg),
    )
    const count = shared.count
    setDecisionSink(count) // checks' decisions: "check:<name>:<action>" counters
    const sampler = queueSamplerOf(plugin, instance, shared)
    sampler?.start()
    const countAll = (fields: readonly string[]) => {
      for (const f of fields) count(f)
    }
    // counting only: a failure here must never change a delivery
    const observe = <A extends unknown[]>(fn: (...args: A) => void) => ({
      run(...args: A) {
        fn(...args)
        return CONT
      },
      onFailure: CONT,
    })

    return {
      hooks: {
        connect_init() {
          count(STAT.connections)
        },
        rcpt_ok() {
          count(STAT.recipientsAccepted)
        },
        queue_ok(c, txn) {
          count(STAT.messagesAccepted)
          count(STAT.bytesAccepted, txn.data_bytes)
          const held = quarantineOf(c) !== undefined
          if (held) count(STAT.quarantined)
          countAll(messageEndFields(decisionsOf(c), held))
        },
        deny(c, [code, , , , , hook]) {
          const field = statForDenial(hook, code)
          if (field) count(field)
          if (MESSAGE_END_HOOKS.has(hook) && c.transaction) countAll(messageEndFields(decisionsOf(c), true))
        },
        disconnect(c) {
          // each successful AUTH of the session left one "pass" in the auth results
          const pass = c.results.get('auth')?.pass
          if (Array.isArray(pass) && pass.length > 0) count(STAT.authSuccesses, pass.length)
        },
        delivered(hmail) {
          count(STAT.deliveries)
          count(STAT.bytesDelivered, messageBytes(hmail))
        },
        deferred: observe(() => count(STAT.deferrals)),
        bounce: observe(() => count(STAT.bounces)),
      },
      async shutdown() {
        setDecisionSink(undefined)
        sampler?.stop()
        await shared.release()
      },
    }
  },
})

/** The message's size in its queue file (Haraka read it for the delivery): file size minus the envelope part; 0 if unknown. */
function messageBytes(hmail: Haraka.QueuedMail): number {
  const { file_size: size, data_start: start } = hmail as unknown as { file_size?: unknown; data_start?: unknown }
  return typeof size === 'number' && typeof start === 'number' && size > start ? size - start : 0
}

/** The queue-depth sampler of this process, or undefined (logged) when this Haraka's queue size cannot be read. */
function queueSamplerOf(plugin: Haraka.Plugin, instance: Direction, shared: SharedBatch): QueueSampler | undefined {
  const read = queueStatsReader(plugin)
  if (!read) {
    plugin.logwarn('delivery queue size not readable (outbound/queue get_stats): no queue_depth samples')
    return undefined
  }
  let folder: string | undefined
  try {
    folder = queueDir(plugin)
  } catch (err) {
    plugin.logwarn(`delivery queue folder unknown (${(err as Error).message}): no queue_oldest_seconds samples`)
  }
  const { settings } = gatewayConfig()
  return new QueueSampler({
    keys: shared.redis.keys,
    direction: instance,
    node: settings.node.name,
    ttls: { m: settings.stats.minute_ttl, h: settings.stats.hour_ttl, d: settings.stats.day_ttl },
    missed: () => ({ key: shared.redis.keys.stats(instance, dayOf(new Date())), field: STAT.nodeListMissed }), // the sample refreshes the node list too
    // the folder's count: Haraka's own is per process (one worker's with nodes=N)
    depth: folder === undefined ? () => queueDepth(read) : () => queuedCount(folder).catch(() => undefined),
    ...(folder !== undefined && { oldestSeconds: (nowMs: number) => oldestAgeSeconds(folder, nowMs) }),
    onAgeError: (err) => plugin.logwarn(`queue folder not readable for the oldest message's age: ${err.message}`),
    sink: shared.batch,
    intervalMs: settings.stats.queue_sample_interval * 1000,
  })
}
