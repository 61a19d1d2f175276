// gateway-links (both instances): link state per destination in Redis, shared by
// every gateway node: for each remote domain (outbound) and each internal mail
// server (inbound), the last success, the last failure and its reply, the run of
// consecutive failures, TLS on the last delivery, and the messages waiting for it
// (`gateway links`). The queue hooks only observe: each builds a WriteUnit for the
// process's shared write batch (no Redis round trip on the delivery path) and
// answers CONT, also when it fails. Inbound also probes the internal servers every
// [links] probe_interval, so one that is down shows before users complain.
// What counts as a failure and how inbound events are attributed: lib/links/attribution.ts.

import cluster from 'node:cluster'
import fs from 'node:fs'

import { LinkRouter, viewOf, type Targeted } from '../../lib/links/attribution'
import { LINKS_MISSED } from '../../lib/links/fields'
import { startProber, type Prober } from '../../lib/links/prober'
import { linkUnit, type LinkContext } from '../../lib/links/updates'
import { formatHostPort } from '../../lib/net/address'
import { definePlugin } from '../../lib/plugin/define'
import { CONT, type QueueVerdict } from '../../lib/plugin/verdict'
import { dayOf } from '../../lib/redis/keys'
import { acquireWriteBatch } from '../../lib/redis/shared-batch'

export = definePlugin({
  name: 'gateway-links',
  instances: ['inbound', 'outbound'],
  hooks: ['send_email', 'deferred', 'bounce', 'delivered'],
  // both may end a queue hook's chain (a hold delays send_email, a DSN is dropped at bounce):
  // a message that leaves the queue unseen here would count as waiting for 14 days
  order: {
    before: {
      'gateway-queue': 'it may end send_email (hold) and deferred: link state must see every attempt first',
      'gateway-bounce': 'it may drop a DSN at bounce, which ends the chain: the bounced message must leave the waiting count first',
    },
  },
  setup({ plugin, instance, gateway }) {
    const { settings } = gateway
    const shared = acquireWriteBatch(instance, (level, msg) =>
      level === 'error' ? plugin.logerror(msg) : level === 'warn' ? plugin.logwarn(msg) : plugin.lognotice(msg),
    )
    const router = new LinkRouter(instance, settings.internal.hosts)
    const context = (): LinkContext => ({
      keys: shared.redis.keys,
      direction: instance,
      node: settings.node.name,
      missed: { key: shared.redis.keys.stats(instance, dayOf(new Date())), field: LINKS_MISSED },
    })
    const write = (changes: Targeted[]) => shared.batch.push(linkUnit(context(), changes, Date.now()))
    const observe = <A extends unknown[]>(fn: (...args: A) => void) => ({
      run(...args: A): QueueVerdict {
        fn(...args)
        return CONT
      },
      onFailure: CONT, // link state is for operators: a failure here never changes a delivery
    })

    let prober: Prober | undefined
    const interval = settings.links.probe_interval
    if (instance === 'inbound' && interval > 0 && probesHere(plugin)) {
      prober = startProber({
        hosts: settings.internal.hosts,
        intervalMs: interval * 1000,
        record: (host, result) =>
          write([
            {
              destination: formatHostPort(host),
              change: result.ok ? { kind: 'probeOk', reply: result.reply } : { kind: 'failure', source: 'probe', reply: result.reply },
            },
          ]),
      })
    }

    return {
      hooks: {
        // every attempt: idempotent, so a message queued before this plugin ran (or a restart) is counted too
        send_email: observe((hmail) => write([router.waiting(viewOf(hmail))])),
        deferred: observe((hmail, params) => write(withdrawn(hmail) ? router.withdrawn(viewOf(hmail)) : router.deferred(viewOf(hmail), params))),
        bounce: observe((hmail, err) => write(withdrawn(hmail) ? router.withdrawn(viewOf(hmail)) : router.bounced(viewOf(hmail), err))),
        delivered(hmail, params) {
          write(router.delivered(viewOf(hmail), params))
        },
      },
      async shutdown() {
        prober?.stop()
        await shared.release()
      },
    }
  },
})

/**
 * One prober per gateway node: the single process (smtp.ini nodes=0, as shipped),
 * or the first worker of a cluster (register() runs in the primary and in every
 * worker: each would count its own failures of the same probe).
 */
function probesHere(plugin: Haraka.Plugin): boolean {
  const nodes = (plugin.config.get('smtp.ini') as { main?: { nodes?: unknown } }).main?.nodes
  const clustered = nodes === undefined || Boolean(nodes)
  return !clustered || cluster.worker?.id === 1
}

/**
 * The queue file is gone: `gateway queue delete` removed it and gateway-queue drops
 * the message (its get_mx gives no MX, so a deferral or bounce follows without any
 * host contacted): the message stops waiting, and nothing is said about the link.
 * A stat of a local file, not a network call.
 */
function withdrawn(hmail: Haraka.QueuedMail): boolean {
  return !fs.existsSync(hmail.path)
}
