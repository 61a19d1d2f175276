// Unit tests for the bucket names and the bucket writer (what one flush's unit holds: increments, TTL per bucket, node set).
import { describe, expect, it } from 'vitest'

import { RedisKeys } from '../redis/keys'
import type { WriteUnit } from '../redis/write-batch'
import { bucketOf, bucketsBetween, BucketWriter } from './buckets'

const T = Date.UTC(2026, 11, 1, 23, 59, 30) // 2026-12-01T23:59:30Z

describe('bucketOf', () => {
  it('names minute, hour and day buckets in UTC', () => {
    expect(bucketOf('m', T)).toBe('2026-12-01T23:59')
    expect(bucketOf('h', T)).toBe('2026-12-01T23')
    expect(bucketOf('d', T)).toBe('2026-12-01')
    expect(bucketOf('m', T + 30_000)).toBe('2026-12-02T00:00')
  })

  it('lists every bucket of a range, both ends included', () => {
    expect(bucketsBetween('m', T - 120_000, T)).toEqual(['2026-12-01T23:57', '2026-12-01T23:58', '2026-12-01T23:59'])
    expect(bucketsBetween('h', T - 3_600_000, T + 60_000)).toEqual(['2026-12-01T22', '2026-12-01T23', '2026-12-02T00'])
    expect(bucketsBetween('d', T, T)).toEqual(['2026-12-01'])
  })
})

describe('BucketWriter', () => {
  const keys = new RedisKeys('gw')
  const TTLS = { m: 172_800, h: 7_776_000, d: 63_072_000 }
  const setup = () => {
    const counters: [string, string, number, number][] = []
    const units: WriteUnit[] = []
    const writer = new BucketWriter(
      { incr: (key, field, by, ttl) => counters.push([key, field, by, ttl]), push: (u) => units.push(u) },
      { keys, direction: 'inbound', node: 'n1', ttls: TTLS, missed: () => ({ key: 'gw:stats:inbound:x', field: 'node_list_missed' }) },
    )
    return { counters, units, writer }
  }

  it('adds each increment to the minute, hour and day hash of this node, each with its own TTL', () => {
    const { counters, writer } = setup()
    writer.count('connections', 3, new Date(T))
    writer.count('check:spam:reject', 1, new Date(T + 31_000)) // the next minute, hour and day
    expect(counters).toEqual([
      ['gw:c:m:inbound:n1:2026-12-01T23:59', 'connections', 3, TTLS.m],
      ['gw:c:h:inbound:n1:2026-12-01T23', 'connections', 3, TTLS.h],
      ['gw:c:d:inbound:n1:2026-12-01', 'connections', 3, TTLS.d],
      ['gw:c:m:inbound:n1:2026-12-02T00:00', 'check:spam:reject', 1, TTLS.m],
      ['gw:c:h:inbound:n1:2026-12-02T00', 'check:spam:reject', 1, TTLS.h],
      ['gw:c:d:inbound:n1:2026-12-02', 'check:spam:reject', 1, TTLS.d],
    ])
  })

  it('keeps the node in the node list, refreshed at most once a minute, as long as the longest buckets', () => {
    const { units, writer } = setup()
    writer.count('connections', 1, new Date(T))
    writer.count('connections', 1, new Date(T + 59_000))
    expect(units).toEqual([
      {
        commands: [
          ['sadd', 'gw:nodes', 'n1'],
          ['expire', 'gw:nodes', TTLS.d],
        ],
        missed: { key: 'gw:stats:inbound:x', field: 'node_list_missed' },
      },
    ])
    writer.count('connections', 1, new Date(T + 60_000))
    expect(units).toHaveLength(2)
  })

  it('ignores zero increments', () => {
    const { counters, units, writer } = setup()
    writer.count('bytes_accepted', 0)
    expect(counters).toHaveLength(0)
    expect(units).toHaveLength(0)
  })
})
