// Tracking events: what happened to a message, when, where. The same JSON object
// goes into the Redis stream (field "e"), the message's event list and the JSON
// lines event log, so every reader sees one schema (documented in README).

export const EVENT_VERSION = 1

export const EVENT_TYPES = ['RECEIVE', 'REJECT', 'QUARANTINE', 'RELEASE', 'QUEUE', 'DELIVER', 'DEFER', 'BOUNCE', 'DSN-SENT'] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Fields of one event type beyond the common ones. */
export interface EventDetails {
  /** REJECT, QUARANTINE: the check that decided. */
  check?: string
  /** REJECT, DELIVER, DEFER, BOUNCE: the SMTP reply (ours or the remote's). */
  reply?: string
  /** QUARANTINE, RELEASE: the quarantine entry id. */
  quarantineId?: string
  /** RELEASE: who released it. */
  by?: string
  /** QUEUE, DELIVER, DEFER, BOUNCE: the destination domain of the queue item. */
  destination?: string
  /** DELIVER: the host delivered to ("host[ip]:port"). */
  host?: string
  /** DELIVER: whether the delivery used TLS. */
  tls?: boolean
  /** DEFER: when the next attempt is due (ISO time). */
  nextAttempt?: string
  /** DEFER: failed attempts so far. */
  attempts?: number
  /** REJECT, DELIVER, BOUNCE, DSN-SENT: the recipients concerned. */
  recipients?: string[]
  /** DSN-SENT: where the DSN goes. */
  dsnTo?: string
}

export interface TrackEvent extends EventDetails {
  readonly v: number
  readonly type: EventType
  /** ISO time. */
  readonly time: string
  readonly node: string
  readonly instance: 'inbound' | 'outbound'
  readonly recordId: string
  readonly queueId: string | null
  readonly messageId: string | null
}

export function eventJson(e: TrackEvent): string {
  return JSON.stringify(e)
}

/** Reads one event back (stream entry or log line); undefined when it is not one. */
export function parseEvent(text: string): TrackEvent | undefined {
  let d: unknown
  try {
    d = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof d !== 'object' || d === null) return undefined
  const e = d as Record<string, unknown>
  if (e.v !== EVENT_VERSION || !(EVENT_TYPES as readonly unknown[]).includes(e.type)) return undefined
  if (typeof e.time !== 'string' || typeof e.recordId !== 'string' || typeof e.node !== 'string') return undefined
  if (e.instance !== 'inbound' && e.instance !== 'outbound') return undefined
  return e as unknown as TrackEvent
}
