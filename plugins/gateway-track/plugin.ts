// gateway-track (both instances): message tracking. For every message accepted,
// quarantined or refused it writes a record (client, TLS, AUTH identity, envelope,
// Message-ID, size, every check's decision, what was done) with search indexes,
// and appends events (RECEIVE, REJECT, QUARANTINE, RELEASE, QUEUE, DELIVER, DEFER,
// BOUNCE, DSN-SENT) to the events stream and the JSON lines event log; `gateway
// track` reads them. Observe only: everything goes into the process's shared
// write batch (lib/redis/shared-batch.ts), never awaited, so Redis being slow or
// down delays the history, never the mail. Listed right after gateway-stats: its
// bounce hook must run before gateway-bounce may drop the bounce.

import * as constants from 'haraka-constants'

import { deploymentPath } from '../../lib/config/paths'
import { verifiedOrgHistory } from '../../lib/org/verified'
import { definePlugin } from '../../lib/plugin/define'
import { transactionState } from '../../lib/plugin/state'
import { CONT } from '../../lib/plugin/verdict'
import { decisionsOf, quarantineOf } from '../../lib/policy/marks'
import { acquireWriteBatch } from '../../lib/redis/shared-batch'
import { buildRecord, messageIdOf, replyText } from '../../lib/tracking/collect'
import { setTrackingSink, type QuarantineReport, type ReleaseReport } from '../../lib/tracking/emit'
import { openEventLog } from '../../lib/tracking/event-log'
import { queuedIdentity, queueItems, TRACKING, isTrackingNote } from '../../lib/tracking/notes'
import { Tracker } from '../../lib/tracking/tracker'
import type { TrackEvent } from '../../lib/tracking/event'

/** The quarantine entry gateway-spool stored the message as (reported through lib/tracking/emit.ts). */
const QUARANTINED = transactionState<QuarantineReport>('gateway_track_quarantine')

const PERMANENT = new Set([constants.deny, constants.denydisconnect])
const REFUSALS = new Set([constants.deny, constants.denydisconnect, constants.denysoft, constants.denysoftdisconnect])

export = definePlugin({
  name: 'gateway-track',
  instances: ['inbound', 'outbound'],
  hooks: ['queue_ok', 'deny', 'pre_send_trans_email', 'delivered', 'deferred', 'bounce'],
  setup({ plugin, instance, gateway }) {
    const { settings } = gateway
    const say = (level: 'error' | 'warn' | 'notice', msg: string) =>
      level === 'error' ? plugin.logerror(msg) : level === 'warn' ? plugin.logwarn(msg) : plugin.lognotice(msg)
    const shared = acquireWriteBatch(instance, say)
    const t = settings.tracking
    const logTarget = t.event_log === 'off' || t.event_log === 'stdout' || t.event_log === '' ? t.event_log : deploymentPath(t.event_log)
    const eventLog = openEventLog(logTarget, (m) => plugin.logwarn(m))
    const tracker = new Tracker(shared, settings.node.name, instance, { recordTtl: t.record_ttl, streamMaxEvents: t.stream_max_events, streamMaxAge: t.stream_max_age }, eventLog)

    setTrackingSink({
      quarantined(_c, txn, q) {
        QUARANTINED.set(txn, q)
      },
      releasing({ entry, txn }) {
        const stored = (entry as { recordId?: unknown }).recordId
        const recordId = typeof stored === 'string' && stored !== '' ? stored : txn.uuid
        TRACKING.set(txn, { recordId, messageId: typeof entry.messageId === 'string' && entry.messageId !== '' ? entry.messageId : null })
      },
      released(r: ReleaseReport) {
        const note = TRACKING.get(r.txn)
        const subject = { recordId: note?.recordId ?? r.txn.uuid, queueId: r.txn.uuid, messageId: note?.messageId ?? messageIdOf(r.txn) }
        const events: TrackEvent[] = [tracker.event('RELEASE', subject, { quarantineId: r.entry.id, by: r.by })]
        for (const q of queueItems(r.txn.uuid, r.txn.rcpt_to)) events.push(tracker.event('QUEUE', { ...subject, queueId: q.queueId }, { destination: q.destination }))
        tracker.writeEvents(events)
      },
      dsnSent(hmail, to) {
        tracker.writeEvents([tracker.event('DSN-SENT', queuedIdentity(hmail), { dsnTo: to })])
      },
    })

    return {
      hooks: {
        /** Just before Haraka writes the queue file: the ids the queue items carry (Haraka has added a missing Message-ID by now). */
        pre_send_trans_email(_ctx, txn) {
          const existing = TRACKING.get(txn)
          const messageId = messageIdOf(txn)
          TRACKING.set(txn, { recordId: isTrackingNote(existing) ? existing.recordId : txn.uuid, messageId: existing?.messageId ?? messageId })
        },

        queue_ok(c, txn) {
          const now = Date.now()
          const q = QUARANTINED.get(txn)
          const held = q !== undefined || quarantineOf(c) !== undefined
          const record = buildRecord(c, txn, {
            id: txn.uuid,
            node: settings.node.name,
            instance,
            time: now,
            status: held ? 'quarantined' : 'accepted',
            action: held ? 'quarantine' : 'deliver',
            queueId: held ? null : txn.uuid,
            quarantineId: q?.quarantineId ?? null,
            inboundRecordId: instance === 'outbound' ? (verifiedOrgHistory(txn)?.recordId ?? null) : null,
          })
          const subject = { recordId: record.id, queueId: null, messageId: record.messageId }
          const events = [tracker.event('RECEIVE', subject, {}, now)]
          if (held) {
            const why = q ?? quarantineOf(c)!
            events.push(tracker.event('QUARANTINE', subject, { check: why.check, ...(q ? { quarantineId: q.quarantineId } : {}) }, now))
          } else {
            for (const item of queueItems(txn.uuid, txn.rcpt_to)) {
              events.push(tracker.event('QUEUE', { ...subject, queueId: item.queueId }, { destination: item.destination }, now))
            }
          }
          tracker.writeRecord(record, events)
        },

        /** A refusal: a compact record (a later acceptance of the same transaction replaces it) and a REJECT event. */
        deny(c, [code, msg, pluginName, , params, hook]) {
          if (!REFUSALS.has(code) || !c.remote) return // a queue item, not a client
          const now = Date.now()
          const txn = c.transaction
          const reply = replyText(PERMANENT.has(code) ? 550 : 450, msg)
          const refused = [...decisionsOf(c)].reverse().find((d) => d.action === 'reject' || d.action === 'tempfail')
          const check = refused?.check ?? pluginName
          const rcpt = hook === 'rcpt' && Array.isArray(params) ? (params[0] as { address?: unknown } | undefined)?.address : undefined
          const recipients = typeof rcpt === 'string' ? [rcpt] : []
          const record = buildRecord(c, txn, {
            id: txn?.uuid ?? c.uuid,
            node: settings.node.name,
            instance,
            time: now,
            status: 'rejected',
            action: PERMANENT.has(code) ? 'reject' : 'tempfail',
            reply,
            extraRecipients: recipients,
          })
          const subject = { recordId: record.id, queueId: null, messageId: record.messageId }
          tracker.writeRecord(record, [tracker.event('REJECT', subject, { check, reply, ...(recipients.length ? { recipients } : {}) }, now)])
        },

        delivered(hmail, params) {
          const [host, ip, response, , port, , okRecips, secured] = params as [unknown, unknown, unknown, unknown, unknown, unknown, unknown, unknown]
          const recipients = Array.isArray(okRecips) ? okRecips.map((r: { address?: unknown }) => String(r?.address ?? r)) : []
          tracker.writeEvents([
            tracker.event('DELIVER', queuedIdentity(hmail), {
              destination: hmail.todo.domain,
              host: `${String(host)}${ip ? `[${String(ip)}]` : ''}${port ? `:${String(port)}` : ''}`,
              reply: deliveredReply(response),
              tls: Boolean(secured),
              recipients,
            }),
          ])
        },

        deferred: {
          onFailure: CONT,
          run(hmail, { delay, err }) {
            const seconds = typeof delay === 'number' ? delay : Number(delay)
            tracker.writeEvents([
              tracker.event('DEFER', queuedIdentity(hmail), {
                destination: hmail.todo.domain,
                reply: errorText(err),
                attempts: hmail.num_failures,
                ...(Number.isFinite(seconds) ? { nextAttempt: new Date(Date.now() + seconds * 1000).toISOString() } : {}),
              }),
            ])
            return CONT
          },
        },

        bounce: {
          onFailure: CONT,
          run(hmail, err) {
            tracker.writeEvents([
              tracker.event('BOUNCE', queuedIdentity(hmail), {
                destination: hmail.todo.domain,
                reply: errorText(err),
                recipients: hmail.todo.rcpt_to.map((r) => r.address),
              }),
            ])
            return CONT
          },
        },
      },
      async shutdown() {
        setTrackingSink(undefined)
        eventLog.close()
        await shared.release()
      },
    }
  },
})

/** Haraka hands over the text of the remote's final reply; delivered means it was a 250 (RFC 5321: the only success reply to DATA). */
function deliveredReply(response: unknown): string {
  const text = String(response ?? '').trim()
  return /^\d{3}\b/.test(text) ? text : `250 ${text}`.trim()
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message
  if (typeof err === 'object' && err !== null && 'message' in err) return String((err as { message: unknown }).message)
  return String(err ?? '')
}
