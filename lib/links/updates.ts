// The Redis commands of a link-state update, built as one WriteUnit for the
// process's shared write batch (lib/redis/shared-batch.ts): pure, so what each
// delivery outcome writes is unit-tested without Redis. Every unit also names the
// destination in the instance's set (keys.links) and renews the TTL of each key
// it touches, so no key outlives LINK_TTL_SECONDS without an update.

import type { Direction, RedisKeys } from '../redis/keys'
import type { RedisCommand, WriteUnit } from '../redis/write-batch'
import { LINK, LINK_TTL_SECONDS, WAITING_MAX_AGE_MS, type FailureSource } from './fields'

/** Replies are stored for people to read; a multi-line 5xx essay is cut here. */
export const MAX_REPLY_CHARS = 300

/** What happened to one destination. */
export type LinkChange =
  /** A message was delivered (the remote answered 250 to the end of DATA). */
  | { readonly kind: 'success'; readonly host: string; readonly reply: string; readonly tls: boolean }
  /** A temporary failure: deferral, connection refused or timed out, or a failed probe. */
  | { readonly kind: 'failure'; readonly source: FailureSource; readonly reply: string }
  /** A permanent refusal. `fromRemote`: the remote answered it (the link works: failures reset). */
  | { readonly kind: 'bounce'; readonly reply: string; readonly fromRemote: boolean }
  /** The internal host answered the probe with a 220 greeting. */
  | { readonly kind: 'probeOk'; readonly reply: string }
  /** A message now waits in a delivery queue for this destination (idempotent). */
  | { readonly kind: 'waiting'; readonly queueId: string; readonly queuedAt: number }
  /** A message left the queue (delivered or bounced). */
  | { readonly kind: 'done'; readonly queueId: string }

export interface LinkContext {
  readonly keys: RedisKeys
  readonly direction: Direction
  /** This gateway node's name (settings.node.name). */
  readonly node: string
  /** The counter incremented if the unit is dropped (write buffer full during a Redis outage). */
  readonly missed: WriteUnit['missed']
}

export function truncateReply(reply: string): string {
  const oneLine = reply.replace(/\s+/g, ' ').trim()
  return oneLine.length > MAX_REPLY_CHARS ? `${oneLine.slice(0, MAX_REPLY_CHARS - 3)}...` : oneLine
}

/** One unit for changes to one or more destinations (written together or not at all). */
export function linkUnit(ctx: LinkContext, changes: readonly { destination: string; change: LinkChange }[], now: number): WriteUnit {
  const commands: RedisCommand[] = []
  const touched = new Set<string>()
  for (const { destination, change } of changes) {
    commands.push(...changeCommands(ctx, destination, change, now))
    touched.add(destination)
  }
  const set = ctx.keys.links(ctx.direction)
  for (const destination of touched) {
    const link = ctx.keys.link(ctx.direction, destination)
    stampNode(commands, link, ctx.node, now)
    commands.push(['expire', link, LINK_TTL_SECONDS], ['sadd', set, destination])
  }
  if (touched.size > 0) commands.push(['expire', set, LINK_TTL_SECONDS])
  return { commands, missed: ctx.missed }
}

/**
 * Which node wrote the link last, and when: added to the change's last HSET of the
 * link when there is one (a delivery is then one HSET, not two: issue 12), else
 * an HSET of its own (a waiting message changes only the queue).
 */
function stampNode(commands: RedisCommand[], link: string, node: string, now: number): void {
  for (let i = commands.length - 1; i >= 0; i--) {
    const c = commands[i]!
    if (c[0] === 'hset' && c[1] === link) {
      commands[i] = [...c, LINK.node, node, LINK.updatedAt, now]
      return
    }
  }
  commands.push(['hset', link, LINK.node, node, LINK.updatedAt, now])
}

function changeCommands(ctx: LinkContext, destination: string, c: LinkChange, now: number): RedisCommand[] {
  const link = ctx.keys.link(ctx.direction, destination)
  const waiting = ctx.keys.linkWaiting(ctx.direction, destination)
  switch (c.kind) {
    case 'success':
      // a delivery also proves the host answers: probe failures end too
      return [
        ['hset', link, LINK.successAt, now, LINK.successHost, c.host, LINK.successReply, truncateReply(c.reply), LINK.successTls, c.tls ? 1 : 0, LINK.failures, 0, LINK.probeFailures, 0],
      ]
    case 'failure':
      return [
        ['hset', link, LINK.failureAt, now, LINK.failureReply, truncateReply(c.reply), LINK.failureSource, c.source],
        ...(c.source === 'probe' ? [['hset', link, LINK.probeAt, now, LINK.probeOk, 0, LINK.probeReply, truncateReply(c.reply)] as const] : []),
        ['hincrby', link, c.source === 'probe' ? LINK.probeFailures : LINK.failures, 1],
      ]
    case 'bounce':
      return [['hset', link, LINK.bounceAt, now, LINK.bounceReply, truncateReply(c.reply), ...(c.fromRemote ? [LINK.failures, 0] : [])]]
    case 'probeOk':
      return [['hset', link, LINK.probeAt, now, LINK.probeOk, 1, LINK.probeReply, truncateReply(c.reply), LINK.probeFailures, 0]]
    case 'waiting':
      return [
        ['zadd', waiting, c.queuedAt, c.queueId],
        ['zremrangebyscore', waiting, '-inf', `(${now - WAITING_MAX_AGE_MS}`],
        ['expire', waiting, LINK_TTL_SECONDS],
      ]
    case 'done':
      return [
        ['zrem', waiting, c.queueId],
        ['zremrangebyscore', waiting, '-inf', `(${now - WAITING_MAX_AGE_MS}`],
        ['expire', waiting, LINK_TTL_SECONDS],
      ]
  }
}
