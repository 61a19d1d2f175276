// What a queued message carries for tracking: its record id and Message-ID, kept
// in the transaction's notes, which Haraka persists in the queue file
// (hmail.todo.notes): deliveries, deferrals and bounces after a restart still
// belong to the right record. A queue item without them (a DSN Haraka made, a
// queue file from before tracking) falls back to its queue id's uuid.

import { transactionState } from '../plugin/state'

export interface TrackingNote {
  readonly recordId: string
  readonly messageId: string | null
}

export const TRACKING = transactionState<TrackingNote>('gateway_track')

export function isTrackingNote(v: unknown): v is TrackingNote {
  if (typeof v !== 'object' || v === null) return false
  const n = v as Record<string, unknown>
  return typeof n.recordId === 'string' && (n.messageId === null || typeof n.messageId === 'string')
}

export interface QueuedIdentity {
  readonly recordId: string
  readonly queueId: string | null
  readonly messageId: string | null
}

/** Record id, queue id and Message-ID of a queue item. */
export function queuedIdentity(hmail: { todo: { notes: Record<string, unknown> } }): QueuedIdentity {
  const todo = hmail.todo as { notes: Record<string, unknown>; uuid?: unknown }
  const queueId = typeof todo.uuid === 'string' ? todo.uuid : null
  const note = todo.notes?.[TRACKING.name]
  if (isTrackingNote(note)) return { recordId: note.recordId, queueId, messageId: note.messageId }
  return { recordId: queueId ? recordIdOfQueueId(queueId) : 'unknown', queueId, messageId: null }
}

/** "<uuid>.<n>" -> "<uuid>". */
export function recordIdOfQueueId(queueId: string): string {
  return queueId.replace(/\.\d+$/, '')
}

/**
 * The queue ids Haraka gives the transaction's queue items: one per recipient
 * domain, numbered in order of first appearance (outbound/index.js get_deliveries,
 * always_split off, as shipped).
 */
export function queueItems(uuid: string, recipients: readonly { host: string | null }[]): { queueId: string; destination: string }[] {
  const domains: string[] = []
  for (const r of recipients) {
    const d = r.host ?? ''
    if (!domains.includes(d)) domains.push(d)
  }
  return domains.map((destination, i) => ({ queueId: `${uuid}.${i + 1}`, destination: destination.toLowerCase() }))
}
