// gateway-track (both instances): message tracking. For every message accepted,
// quarantined or refused it writes a record (client, TLS, AUTH identity, envelope,
// Message-ID, size, every check's decision, what was done) with search indexes,
// and appends events (RECEIVE, REJECT, QUARANTINE, RELEASE, QUEUE, DELIVER, DEFER,
// BOUNCE, DSN-SENT) to the events stream and the JSON lines event log; `gateway
// track` reads them. Observe only: everything goes into the process's shared
// write batch (lib/redis/shared-batch.ts), never awaited, so Redis being slow or
// down delays the history, never the mail. Listed right after gateway-stats: its
// bounce hook must run before gateway-bounce may drop the bounce.
// It also writes the log lines the shipped level (notice) keeps: one summary per
// transaction and one per delivery attempt (lib/tracking/summary-line.ts).

import * as constants from 'haraka-constants'

import { deploymentPath } from '../../lib/config/paths'
import { verifiedOrgHistory } from '../../lib/org/verified'
import { onTransactionEnd } from '../../lib/haraka'
import { definePlugin } from '../../lib/plugin/define'
import { transactionState } from '../../lib/plugin/state'
import { CONT } from '../../lib/plugin/verdict'
import { decisionsOf, quarantineOf } from '../../lib/policy/marks'
import { acquireWriteBatch } from '../../lib/redis/shared-batch'
import { buildRecord, messageIdOf, replyText } from '../../lib/tracking/collect'
import { setTrackingSink, type QuarantineReport, type ReleaseReport } from '../../lib/tracking/emit'
import { deliveryLine, transactionSummary, type TransactionOutcome } from '../../lib/tracking/summary-line'
import { openEventLog } from '../../lib/tracking/event-log'
import { queuedIdentity, queueItems, TRACKING, isTrackingNote } from '../../lib/tracking/notes'
import { Tracker } from '../../lib/tracking/tracker'
import type { TrackEvent } from '../../lib/tracking/event'

/** The quarantine entry gateway-spool stored the message as (reported through lib/tracking/emit.ts). */
const QUARANTINED = transactionState<QuarantineReport>('gateway_track_quarantine')

/** How the transaction ended (queue_ok, or a refusal that ends it) and the recipients refused at RCPT: for the summary line. */
const OUTCOME = transactionState<TransactionOutcome>('gateway_track_outcome')
const REFUSED_RCPTS = transactionState<{ count: number; last: string }>('gateway_track_refused_rcpts')
/** Refusals that end the transaction (a refused RCPT does not). */
const ENDING_HOOKS = new Set(['mail', 'data', 'data_post', 'max_data_exceeded', 'queue', 'queue_outbound'])

const PERMANENT = new Set([constants.deny, constants.denydisconnect])
const REFUSALS = new Set([constants.deny, constants.denydisconnect, constants.denysoft, constants.denysoftdisconnect])

export = definePlugin({
  name: 'gateway-track',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init', 'queue_ok', 'deny', 'pre_send_trans_email', 'delivered', 'deferred', 'bounce'],
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
        /** The summary line of each transaction, when it ends (accepted, refused, or ended by the client). */
        connect_init(c) {
          onTransactionEnd(
            c,
            (txn, startedAt) => {
              const refused = REFUSED_RCPTS.get(txn)
              const facts = { outcome: OUTCOME.get(txn), refused: refused?.count ?? 0, lastRefusal: refused?.last, seconds: (Date.now() - startedAt) / 1000 }
              c.lognotice(plugin, transactionSummary(c, txn, facts))
            },
            (err) => c.logerror(plugin, `summary line not written: ${err instanceof Error ? err.message : String(err)}`),
          )
        },

        /** Just before Haraka writes the queue file: the ids the queue items carry (Haraka has added a missing Message-ID by now). */
        pre_send_trans_email(_ctx, txn) {
          const existing = TRACKING.get(txn)
          const messageId = messageIdOf(txn)
          TRACKING.set(txn, { recordId: isTrackingNote(existing) ? existing.recordId : txn.uuid, messageId: existing?.messageId ?? messageId })
        },

        queue_ok(c, txn, msg) {
          const now = Date.now()
          const q = QUARANTINED.get(txn)
          const held = q !== undefined || quarantineOf(c) !== undefined
          OUTCOME.set(txn, { result: held ? 'quarantined' : 'accepted', reply: replyText(250, msg) })
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
          if (txn && hook === 'rcpt') REFUSED_RCPTS.set(txn, { count: (REFUSED_RCPTS.get(txn)?.count ?? 0) + 1, last: reply })
          else if (txn && ENDING_HOOKS.has(hook)) OUTCOME.set(txn, { result: PERMANENT.has(code) ? 'rejected' : 'tempfailed', reply })
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
          const hostText = `${String(host)}${ip ? `[${String(ip)}]` : ''}${port ? `:${String(port)}` : ''}`
          hmail.lognotice(plugin, deliveryLine(queuedIdentity(hmail).queueId ?? hmail.filename, { result: 'delivered', domain: hmail.todo.domain, host: hostText, tls: Boolean(secured), reply: deliveredReply(response), recipients: recipients.length, failures: hmail.num_failures }))
          tracker.writeEvents([
            tracker.event('DELIVER', queuedIdentity(hmail), {
              destination: hmail.todo.domain,
              host: hostText,
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
            hmail.lognotice(
              plugin,
              deliveryLine(queuedIdentity(hmail).queueId ?? hmail.filename, {
                result: 'deferred',
                domain: hmail.todo.domain,
                reply: errorText(err),
                recipients: hmail.todo.rcpt_to.length,
                failures: hmail.num_failures,
                ...(Number.isFinite(seconds) ? { retryIn: seconds } : {}),
              }),
            )
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
            hmail.lognotice(plugin, deliveryLine(queuedIdentity(hmail).queueId ?? hmail.filename, { result: 'bounced', domain: hmail.todo.domain, reply: errorText(err), recipients: hmail.todo.rcpt_to.length, failures: hmail.num_failures }))
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
