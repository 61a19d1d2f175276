// Which destination a delivery-queue event belongs to, and what it means for
// the link, from what Haraka's queue hooks hand over (outbound/hmail.js 3.3.4).
// Outbound: the destination is the remote domain (hmail.todo.domain, lower case).
// Inbound: the destination is an internal host ("host:port" from [internal] hosts),
// and the hooks do not always say which one:
// - delivered names the host and port that took the message: exact;
// - a deferral "Tried all MXs" means no internal host could take the message
//   (each refused the connection, timed out or dropped it): a failure of every one;
// - a deferral for some recipients carries the host (params.mx): exact;
// - a deferral "Upstream error" (a 4xx to MAIL or DATA) names only the host's
//   address (recipients' dsn_remote_mta): exact when one internal host has that
//   address, else charged to the primary (the first internal host);
// - anything else (TLS required but unavailable, a broken queue file...) is
//   charged to the primary: Haraka does not say which host was being tried.
// Messages waiting in the inbound queue are counted at the primary: they are
// queued for "the internal servers", not for one of them.
// A permanent refusal (5xx, a bounce) answered by the remote proves the link
// works: it is recorded as the last bounce and ends the run of failures instead of
// counting as one. A bounce because the retries ran out ("Too many failures") is
// the last temporary failure: counted as one.

import type { Direction } from '../redis/keys'
import { formatHostPort, normalizeIp, type HostPort } from '../net/address'
import { parseQueueFileName, queueId } from '../queue/qfile'
import type { LinkChange } from './updates'

/** The parts of a queued message (Haraka's HMailItem) link state reads. */
export interface QueuedView {
  readonly domain: string
  /**
   * The queue file's id as `gateway queue list` shows it (arrival and random tag,
   * kept across Haraka's renames): one entry per queue file in the waiting set. Not
   * todo.uuid: a message's per-domain parts and split-off recipients share it.
   */
  readonly queueId: string
  /** When the message entered the queue (ms). */
  readonly queuedAt: number
  /** Recipients' last remote replies and the MX address that gave them. */
  readonly recipients: readonly { readonly reason?: string; readonly remoteMta?: string }[]
}

export type Targeted = { readonly destination: string; readonly change: LinkChange }

export class LinkRouter {
  private readonly hosts: readonly HostPort[]

  constructor(
    readonly direction: Direction,
    internalHosts: readonly HostPort[],
  ) {
    this.hosts = internalHosts.map((h) => ({ host: h.host.toLowerCase(), port: h.port }))
    if (direction === 'inbound' && this.hosts.length === 0) throw new Error('inbound link state needs the internal hosts')
  }

  /** Inbound: the first internal host. */
  get primary(): string {
    return formatHostPort(this.hosts[0]!)
  }

  /** Every internal host, as destinations. */
  get internalDestinations(): string[] {
    return this.hosts.map(formatHostPort)
  }

  /** Where a queued message counts as waiting. */
  waitingAt(m: QueuedView): string {
    return this.direction === 'outbound' ? m.domain.toLowerCase() : this.primary
  }

  /** send_email (every attempt) and deferred: the message waits (idempotent). */
  waiting(m: QueuedView): Targeted {
    return { destination: this.waitingAt(m), change: { kind: 'waiting', queueId: m.queueId, queuedAt: m.queuedAt } }
  }

  /** delivered: [host, ip, response, delay, port, mode, ok_recips, secured, authenticated]. */
  delivered(m: QueuedView, params: readonly unknown[]): Targeted[] {
    const [host, ip, response, , port, , , secured] = params
    const hostName = typeof host === 'string' ? host : ''
    const address = typeof ip === 'string' ? normalizeIp(ip) : ''
    const portNumber = Number(port)
    const destination = this.direction === 'outbound' ? m.domain.toLowerCase() : this.internalHost([hostName, address], portNumber) ?? formatHostPort({ host: address || hostName, port: portNumber })
    return [
      { destination, change: { kind: 'success', host: hostName || address, reply: typeof response === 'string' ? response : String(response ?? ''), tls: secured === true } },
      { destination: this.waitingAt(m), change: { kind: 'done', queueId: m.queueId } },
    ]
  }

  /** deferred: { delay, err, fail_recips?, mx? }. The message keeps waiting (a split-off part starts to). */
  deferred(m: QueuedView, params: { err: unknown; mx?: unknown; fail_recips?: unknown }): Targeted[] {
    const err = errorText(params.err)
    const reply = /^Some recipients temp failed/.test(err) ? (firstReason(params.fail_recips) ?? err) : err
    const failure: LinkChange = { kind: 'failure', source: 'delivery', reply }
    return [...this.failedAt(m, err, params.mx).map((destination) => ({ destination, change: failure })), this.waiting(m)]
  }

  /** bounce: an Error, with .mx and .bounced_rcpt when recipients were refused. The message leaves the queue. */
  bounced(m: QueuedView, errArg: unknown): Targeted[] {
    const err = errorText(errArg)
    const extra = (typeof errArg === 'object' && errArg !== null ? errArg : {}) as { mx?: unknown; bounced_rcpt?: unknown }
    const done: Targeted = { destination: this.waitingAt(m), change: { kind: 'done', queueId: m.queueId } }
    if (/^Too many failures/.test(err)) {
      const failure: LinkChange = { kind: 'failure', source: 'delivery', reply: err }
      return [...this.failedAt(m, err.replace(/^Too many failures \((.*)\)$/, '$1'), extra.mx).map((destination) => ({ destination, change: failure })), done]
    }
    const reply = /^Some recipients failed/.test(err) ? (firstReason(extra.bounced_rcpt) ?? err) : err
    const fromRemote = extra.mx !== undefined || /^Upstream error: 5/.test(err) || /^5\d\d\b/.test(reply)
    const destination = this.direction === 'outbound' ? m.domain.toLowerCase() : (this.mxHost(extra.mx) ?? this.byRemoteMta(m) ?? this.primary)
    return [{ destination, change: { kind: 'bounce', reply, fromRemote } }, done]
  }

  /** A message an administrator deleted from the queue: it stops waiting; the link was not tried. */
  withdrawn(m: QueuedView): Targeted[] {
    return [{ destination: this.waitingAt(m), change: { kind: 'done', queueId: m.queueId } }]
  }

  /** The destinations a temporary failure is charged to (see the file comment). */
  private failedAt(m: QueuedView, err: string, mx: unknown): string[] {
    if (this.direction === 'outbound') return [m.domain.toLowerCase()]
    if (/^Tried all MXs/.test(err)) return this.internalDestinations
    const exact = this.mxHost(mx) ?? (/^Upstream error/.test(err) ? this.byRemoteMta(m) : undefined)
    return [exact ?? this.primary]
  }

  /** The internal host of Haraka's mx object ({ exchange, port }), if it is one. */
  private mxHost(mx: unknown): string | undefined {
    if (typeof mx !== 'object' || mx === null) return undefined
    const { exchange, port } = mx as { exchange?: unknown; port?: unknown }
    return typeof exchange === 'string' ? this.internalHost([exchange], Number(port ?? 25)) : undefined
  }

  /** The one internal host at the address recipients' replies came from; undefined when none or ambiguous. */
  private byRemoteMta(m: QueuedView): string | undefined {
    const mta = m.recipients.find((r) => r.remoteMta)?.remoteMta?.toLowerCase()
    if (!mta) return undefined
    const matches = this.hosts.filter((h) => h.host === mta)
    return matches.length === 1 ? formatHostPort(matches[0]!) : undefined
  }

  private internalHost(names: readonly string[], port: number): string | undefined {
    const wanted = new Set(names.filter(Boolean).map((n) => normalizeIp(n).toLowerCase()))
    const hit = this.hosts.find((h) => h.port === port && wanted.has(h.host))
    return hit ? formatHostPort(hit) : undefined
  }
}

/** The text of Haraka's err (a string, or an Error made from one). */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message
  return typeof err === 'string' ? err : String(err ?? '')
}

function firstReason(recipients: unknown): string | undefined {
  if (!Array.isArray(recipients)) return undefined
  const r = recipients.find((x: unknown) => typeof (x as { reason?: unknown } | null)?.reason === 'string') as { reason: string } | undefined
  return r?.reason
}

/** The QueuedView of Haraka's queued message. */
export function viewOf(hmail: Haraka.QueuedMail): QueuedView {
  const todo = hmail.todo as Haraka.QueuedMail['todo'] & { uuid?: unknown }
  const name = parseQueueFileName(hmail.filename)
  return {
    domain: todo.domain,
    queueId: name ? queueId(name) : `${String(todo.uuid)}:${todo.domain}`,
    queuedAt: Number(todo.queue_time) || Date.now(),
    recipients: (todo.rcpt_to ?? []).map((r) => ({
      ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
      ...(typeof r.dsn_remote_mta === 'string' ? { remoteMta: r.dsn_remote_mta } : {}),
    })),
  }
}
