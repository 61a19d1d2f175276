// Unit tests for the commands of link-state updates (linkUnit): what each kind of
// change writes, the set and TTLs every unit renews, trimming of old waiting entries.
import { describe, expect, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import { LINK_TTL_SECONDS, WAITING_MAX_AGE_MS } from './fields'
import { linkUnit, MAX_REPLY_CHARS, truncateReply, type LinkContext } from './updates'

const NOW = 1_700_000_000_000
const keys = new RedisKeys('gw')
const ctx: LinkContext = { keys, direction: 'outbound', node: 'gw1', missed: { key: 'gw:stats:outbound:2023-11-14', field: 'links_updates_missed' } }
const link = 'gw:link:outbound:partner.test'
const waiting = 'gw:linkq:outbound:partner.test'

describe('linkUnit', () => {
  it('a delivery: success fields, TLS flag, both failure runs reset, node (one HSET); set and TTLs', () => {
    const unit = linkUnit(ctx, [{ destination: 'partner.test', change: { kind: 'success', host: 'mx.partner.test', reply: '250 2.0.0 OK', tls: true } }], NOW)
    expect(unit.missed).toEqual(ctx.missed)
    expect(unit.commands).toEqual([
      ['hset', link, 'success_at', NOW, 'success_host', 'mx.partner.test', 'success_reply', '250 2.0.0 OK', 'success_tls', 1, 'failures', 0, 'probe_failures', 0, 'node', 'gw1', 'updated_at', NOW],
      ['expire', link, LINK_TTL_SECONDS],
      ['sadd', 'gw:links:outbound', 'partner.test'],
      ['expire', 'gw:links:outbound', LINK_TTL_SECONDS],
    ])
  })

  it('a deferral counts one delivery failure; a failed probe counts a probe failure and records the probe', () => {
    const deferral = linkUnit(ctx, [{ destination: 'partner.test', change: { kind: 'failure', source: 'delivery', reply: 'Upstream error: 451 4.3.0 busy' } }], NOW)
    expect(deferral.commands.slice(0, 2)).toEqual([
      ['hset', link, 'failure_at', NOW, 'failure_reply', 'Upstream error: 451 4.3.0 busy', 'failure_source', 'delivery', 'node', 'gw1', 'updated_at', NOW],
      ['hincrby', link, 'failures', 1],
    ])
    const probe = linkUnit({ ...ctx, direction: 'inbound' }, [{ destination: '10.0.0.5:25', change: { kind: 'failure', source: 'probe', reply: 'connect ECONNREFUSED' } }], NOW)
    const l = 'gw:link:inbound:10.0.0.5:25'
    expect(probe.commands.slice(0, 3)).toEqual([
      ['hset', l, 'failure_at', NOW, 'failure_reply', 'connect ECONNREFUSED', 'failure_source', 'probe'],
      ['hset', l, 'probe_at', NOW, 'probe_ok', 0, 'probe_reply', 'connect ECONNREFUSED', 'node', 'gw1', 'updated_at', NOW],
      ['hincrby', l, 'probe_failures', 1],
    ])
    expect(probe.commands).toContainEqual(['sadd', 'gw:links:inbound', '10.0.0.5:25'])
  })

  it('a bounce answered by the remote ends the failure run without counting; one that is not keeps it', () => {
    const remote = linkUnit(ctx, [{ destination: 'partner.test', change: { kind: 'bounce', reply: '550 5.1.1 no such user', fromRemote: true } }], NOW)
    expect(remote.commands[0]).toEqual(['hset', link, 'bounce_at', NOW, 'bounce_reply', '550 5.1.1 no such user', 'failures', 0, 'node', 'gw1', 'updated_at', NOW])
    const local = linkUnit(ctx, [{ destination: 'partner.test', change: { kind: 'bounce', reply: 'No such domain', fromRemote: false } }], NOW)
    expect(local.commands[0]).toEqual(['hset', link, 'bounce_at', NOW, 'bounce_reply', 'No such domain', 'node', 'gw1', 'updated_at', NOW])
    expect([...remote.commands, ...local.commands].some((c) => c[0] === 'hincrby')).toBe(false)
  })

  it('a good probe resets only the probe failures', () => {
    const unit = linkUnit(ctx, [{ destination: 'h:25', change: { kind: 'probeOk', reply: '220 mail ESMTP' } }], NOW)
    expect(unit.commands[0]).toEqual(['hset', 'gw:link:outbound:h:25', 'probe_at', NOW, 'probe_ok', 1, 'probe_reply', '220 mail ESMTP', 'probe_failures', 0, 'node', 'gw1', 'updated_at', NOW])
  })

  it('waiting: idempotent ZADD with the queue time, ZREM when done; both trim entries older than the bound', () => {
    const add = linkUnit(ctx, [{ destination: 'partner.test', change: { kind: 'waiting', queueId: 'q1', queuedAt: NOW - 5000 } }], NOW)
    const trim = ['zremrangebyscore', waiting, '-inf', `(${NOW - WAITING_MAX_AGE_MS}`]
    expect(add.commands.slice(0, 3)).toEqual([['zadd', waiting, NOW - 5000, 'q1'], trim, ['expire', waiting, LINK_TTL_SECONDS]])
    const done = linkUnit(ctx, [{ destination: 'partner.test', change: { kind: 'done', queueId: 'q1' } }], NOW)
    expect(done.commands.slice(0, 3)).toEqual([['zrem', waiting, 'q1'], trim, ['expire', waiting, LINK_TTL_SECONDS]])
    // no HSET of the change to add them to: node and time in one of their own
    expect(add.commands).toContainEqual(['hset', link, 'node', 'gw1', 'updated_at', NOW])
  })

  it('several destinations in one unit: each gets node, TTL and set membership once', () => {
    const unit = linkUnit(
      { ...ctx, direction: 'inbound' },
      [
        { destination: 'a:25', change: { kind: 'failure', source: 'delivery', reply: 'Tried all MXs' } },
        { destination: 'b:25', change: { kind: 'failure', source: 'delivery', reply: 'Tried all MXs' } },
        { destination: 'a:25', change: { kind: 'waiting', queueId: 'q', queuedAt: NOW } },
      ],
      NOW,
    )
    expect(unit.commands.filter((c) => c[0] === 'sadd')).toEqual([
      ['sadd', 'gw:links:inbound', 'a:25'],
      ['sadd', 'gw:links:inbound', 'b:25'],
    ])
    expect(unit.commands.filter((c) => c[0] === 'hincrby')).toHaveLength(2)
  })
})

describe('truncateReply', () => {
  it('keeps one line and at most MAX_REPLY_CHARS', () => {
    expect(truncateReply('451 4.3.0\r\n  try later ')).toBe('451 4.3.0 try later')
    const long = truncateReply(`550 ${'x'.repeat(1000)}`)
    expect(long).toHaveLength(MAX_REPLY_CHARS)
    expect(long.endsWith('...')).toBe(true)
  })
})
