// The AUTH lockout's storage in Redis, shared by every outbound node: the
// admit/finish contract of lockout-store.ts as two Lua scripts, each one atomic
// step, with lease expiry read from Redis' own clock (TIME) so the nodes' clocks
// never matter. Per target: a failure counter (INCR + EXPIRE, window started by
// the first failure) and a sorted set of leases (member = attempt id, score =
// expiry in ms). Redis >= 5 (scripts replicate their effects, so TIME may precede writes).

import type Redis from 'ioredis'

import type { Admission, LockoutStore, LockTarget, Settlement } from './lockout-store'

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

// KEYS: failures1, leases1, failures2, leases2, ...   ARGV: id, leaseMs, max1, max2, ...
// Locked is decided before anything is written: a refused attempt changes nothing
// (no count, no longer window). Expired leases (a crashed or stalled node) are
// dropped, and the lease set expires with its last lease.
const ADMIT = `${NOW_MS}
local n = #KEYS / 2
for i = 1, n do
  local failures = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  if failures >= tonumber(ARGV[2 + i]) then return {'locked', i, failures} end
end
local busy = false
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', now)
  local failures = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  if failures + redis.call('ZCARD', KEYS[2 * i]) >= tonumber(ARGV[2 + i]) then busy = true end
end
if busy then return {'busy'} end
local lease = tonumber(ARGV[2])
for i = 1, n do
  redis.call('ZADD', KEYS[2 * i], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[2 * i], lease)
end
return {'admitted'}`

// KEYS as ADMIT.   ARGV: id, failed (1|0), windowSeconds
// Returns {held, failures1, failures2, ...}. A failure is counted even when its
// lease had already expired (the caller then withholds the result).
const FINISH = `${NOW_MS}
local out = {1}
for i = 1, #KEYS / 2 do
  local score = redis.call('ZSCORE', KEYS[2 * i], ARGV[1])
  if not score or tonumber(score) <= now then out[1] = 0 end
  redis.call('ZREM', KEYS[2 * i], ARGV[1])
  local key = KEYS[2 * i - 1]
  if ARGV[2] == '1' then
    local count = redis.call('INCR', key)
    if count == 1 or redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[3]) end
    out[i + 1] = count
  else
    out[i + 1] = tonumber(redis.call('GET', key) or '0')
  end
end
return out`

export class RedisLockoutStore implements LockoutStore {
  constructor(
    private readonly redis: Redis,
    private readonly windowSeconds: number,
  ) {}

  async admit(targets: readonly LockTarget[], id: string, leaseMs: number): Promise<Admission> {
    const out = (await this.redis.eval(ADMIT, targets.length * 2, ...keysOf(targets), id, leaseMs, ...targets.map((t) => t.max))) as unknown[]
    if (out[0] === 'admitted') return { kind: 'admitted' }
    if (out[0] === 'busy') return { kind: 'busy' }
    const target = targets[Number(out[1]) - 1]
    if (out[0] !== 'locked' || !target) throw new Error(`unexpected lockout script reply ${JSON.stringify(out)}`)
    return { kind: 'locked', by: target.by, failures: Number(out[2]) }
  }

  async finish(targets: readonly LockTarget[], id: string, failed: boolean): Promise<Settlement> {
    const out = (await this.redis.eval(FINISH, targets.length * 2, ...keysOf(targets), id, failed ? 1 : 0, this.windowSeconds)) as unknown[]
    return { held: Number(out[0]) === 1, failures: out.slice(1).map(Number) }
  }
}

/** The first target whose failures reached its limit, read in one MGET (no lease taken, nothing written). */
export async function lockedBy(redis: Redis, targets: readonly LockTarget[]): Promise<{ by: LockTarget['by']; failures: number } | undefined> {
  if (targets.length === 0) return undefined
  const counts = await redis.mget(...targets.map((t) => t.failures))
  for (const [i, t] of targets.entries()) {
    const failures = Number(counts[i] ?? 0)
    if (failures >= t.max) return { by: t.by, failures }
  }
  return undefined
}

function keysOf(targets: readonly LockTarget[]): string[] {
  return targets.flatMap((t) => [t.failures, t.leases])
}
