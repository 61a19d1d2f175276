// gateway-queue (both instances): carries out what administrators decide with
// `gateway queue` on the running instance's delivery queue. Held domains are not
// attempted (put back without counting an attempt) until released; a flush for
// one domain leaves the other domains on their retry schedule; the last error of
// each deferred message is recorded for `gateway queue list`; and a message whose
// queue file an administrator deleted is dropped before any remote host is
// contacted. On inbound it also carries out `gateway quarantine release`: the
// message goes into this delivery queue (lib/quarantine/release-service.ts).
// State is shared with the commands through <instance>/queue-control/, read through
// a cache (lib/queue/control-cache.ts): no file is read per delivery, a hold is
// seen at once (folder watch) or within a second, and a flush re-reads first.

import cluster from 'node:cluster'
import fsp from 'node:fs/promises'
import path from 'node:path'

import { instanceConfigDir } from '../../lib/config/paths'
import { field } from '../../lib/config/schema'
import { queueDir as harakaQueueDir } from '../../lib/haraka'
import { definePlugin } from '../../lib/plugin/define'
import { acceptAndStop, CONT, delay, DROP, type Verdict } from '../../lib/plugin/verdict'
import { serveQuarantineReleases } from '../../lib/quarantine/release-service'
import { QueueControl } from '../../lib/queue/control'
import { QueueControlCache } from '../../lib/queue/control-cache'
import { listQueue, parseQueueFileName, queueId } from '../../lib/queue/qfile'
import { decideSend } from '../../lib/queue/schedule'

const schema = {
  hold: {
    /** Seconds a message of a held domain waits before the hold is checked again (a flush checks at once). */
    recheck_seconds: field.int({ default: 60, min: 5, max: 86_400 }),
  },
}

export = definePlugin({
  name: 'gateway-queue',
  instances: ['inbound', 'outbound'],
  hooks: ['get_mx', 'send_email', 'deferred', 'bounce', 'delivered'],
  config: schema,
  setup({ plugin, instance, config: { hold } }) {
    const instanceDir = path.dirname(instanceConfigDir())
    const control = new QueueControl(instanceDir)
    const cache = new QueueControlCache(control, (m) => plugin.logwarn(m))
    // Haraka's flush (SIGHUP; in a cluster the master's message to each worker) tries
    // every waiting message at once: the hold and scope it acts on are the ones the
    // administrator just wrote. Prepended, so the caches are renewed before Haraka's
    // own listener starts the deliveries. The event name is Haraka's (3.3.4 server.js
    // flushQueue, outbound/index.js); if it changed, a hold or scope written just
    // before a flush is still seen within RECHECK_MS (and hold/release wait that long).
    const onSighup = (): void => cache.refresh()
    const onMessage = (msg: unknown): void => {
      if ((msg as { event?: unknown } | null)?.event === 'outbound.flush_queue') cache.refresh()
    }
    if (cluster.isWorker) process.prependListener('message', onMessage)
    else process.prependListener('SIGHUP', onSighup)
    // ids with a last-error record: a delivered message without one costs no file-system call
    const recorded = control.recordedErrorIds()
    // Synchronous (no promise, no deadline timer) unless there is a record to remove:
    // the delivery hooks run for every message (issue 12)
    const forget = (id: string | null): Promise<void> | undefined => {
      if (!id || !recorded.has(id)) return undefined
      return control.forgetError(id).then(() => void recorded.delete(id))
    }
    const queueDir = harakaQueueDir(plugin)
    // queue items whose file was deleted by an administrator: dropped, never sent
    const withdrawn = new WeakSet<Haraka.QueuedMail>()
    const idOf = (hmail: Haraka.QueuedMail): string | null => {
      const name = parseQueueFileName(hmail.filename)
      return name ? queueId(name) : null
    }

    if (cluster.isPrimary) {
      // error records of messages that left the queue while no hook saw it (crash, double bounce)
      const queued = new Set(listQueue(queueDir).map((m) => m.id))
      control.pruneErrors(queued).catch((err: unknown) => plugin.logerror(`pruning ${control.dir} failed: ${String(err)}`))
    }

    /** The queue file is gone (`gateway queue delete`): the attempt ends with no MX, and the deferred/bounce hooks drop it. */
    async function withdrawIfDeleted(hmail: Haraka.QueuedMail): Promise<Verdict | undefined> {
      try {
        await fsp.access(hmail.path)
        return undefined
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err // the adapter defers: try again later
        withdrawn.add(hmail)
        hmail.lognotice(plugin, `queue file ${hmail.filename} was deleted by an administrator: dropped without delivery`)
        return acceptAndStop([])
      }
    }

    const releases = instance === 'inbound' ? serveQuarantineReleases(plugin, instanceDir, queueDir) : undefined

    return {
      shutdown: () => {
        releases?.stop()
        cache.close()
        process.removeListener('message', onMessage)
        process.removeListener('SIGHUP', onSighup)
      },
      hooks: {
        send_email: {
          // the hold list could not be read: waiting is safe, sending a held domain is not
          onFailure: delay(hold.recheck_seconds),
          run(hmail) {
            const name = parseQueueFileName(hmail.filename)
            const held = cache.heldDomains()
            const scope = cache.flushScope()
            const d = decideSend({
              domain: hmail.todo.domain,
              nextAttempt: name?.nextAttempt ?? 0,
              now: Date.now(),
              held,
              scope,
              holdRecheckSeconds: hold.recheck_seconds,
            })
            if (d.kind === 'send') return CONT
            const why = d.why === 'held' ? `domain ${hmail.todo.domain} is held` : `flush was for ${scope?.domain ?? '?'} only`
            hmail.loginfo(plugin, `not attempted: ${why}; next check in ${d.seconds} s (${name ? queueId(name) : hmail.filename})`)
            return delay(d.seconds)
          },
        },
        deferred: {
          onFailure: CONT, // the record is for administrators; Haraka re-queues regardless
          async run(hmail, params) {
            if (withdrawn.has(hmail)) return DROP
            const id = idOf(hmail)
            if (id) {
              recorded.add(id)
              await control.recordError(id, { error: String(params?.err ?? 'unknown'), at: Date.now(), attempts: hmail.num_failures })
            }
            return CONT
          },
        },
        bounce: {
          onFailure: CONT,
          async run(hmail) {
            if (withdrawn.has(hmail)) return DROP // deleted: no delivery and no DSN
            await forget(idOf(hmail))
            return CONT
          },
        },
        // observe-only: the message has left the queue whatever happens here
        delivered(hmail) {
          return forget(idOf(hmail))
        },
        // Runs before gateway-routing (which ends get_mx: declared there, checked at
        // startup): `gateway queue delete` removed the queue file while Haraka still had
        // it scheduled. An empty MX list ends the attempt without contacting anyone; the
        // deferred/bounce hooks above then drop it. Only messages the command named are
        // checked on disk (queue-control/deleted, cached): no file-system call for every
        // other delivery.
        get_mx(hmail) {
          const id = idOf(hmail)
          if (!id || !cache.deletedIds().has(id)) return undefined // synchronous: nearly every delivery
          return withdrawIfDeleted(hmail)
        },
      },
    }
  },
})
