// Housekeeping commands repeated within one flush, sent once.
//
// Every message's write unit carries its own upkeep for shared keys: the EXPIRE
// of the day's index, the trim of an index or stream, the node's SADD into the
// node set. Within one MULTI only the last of them matters (or the first, for a
// SADD of the same member): with 14 messages per flush, the inbound instance
// sent ~15 EXPIREs and ~7 trims per message, most for the same few keys (issue
// 12: Redis commands per message). Dropping the repeats leaves the state after
// EXEC unchanged:
// - EXPIRE / PEXPIRE: only sets a TTL; the last one for a key, after every
//   write to it in the MULTI, is the TTL the key ends with.
// - ZREMRANGEBYSCORE key -inf <cutoff>, XTRIM key MINID ...: trims by age, and
//   the last cutoff is the newest; a trim kept later removes what an earlier one
//   would have (an older cutoff only ever keeps more).
// - SADD key member (one member): idempotent; the first one is enough.
// Anything else (and any of these in another form) is sent as it is, in order.

import type { RedisCommand } from './write-batch'

/** The identity of a command that a later (or earlier) identical one makes redundant, or undefined. */
function upkeepKey(cmd: RedisCommand): { key: string; keep: 'last' | 'first' } | undefined {
  const [name, key, ...rest] = cmd
  const n = name.toLowerCase()
  if (key === undefined) return undefined
  if ((n === 'expire' || n === 'pexpire') && rest.length === 1) return { key: `${n}\0${key}`, keep: 'last' }
  if (n === 'zremrangebyscore' && rest[0] === '-inf' && rest.length === 2) return { key: `${n}\0${key}`, keep: 'last' }
  if (n === 'xtrim' && rest[0] === 'MINID') return { key: `${n}\0${key}\0${rest.length}`, keep: 'last' }
  if (n === 'sadd' && rest.length === 1) return { key: `${n}\0${key}\0${rest[0]}`, keep: 'first' }
  return undefined
}

/** `commands` without the redundant housekeeping repeats; everything else in its order. */
export function coalesceUpkeep(commands: readonly RedisCommand[]): RedisCommand[] {
  const last = new Map<string, number>()
  const first = new Map<string, number>()
  commands.forEach((cmd, i) => {
    const u = upkeepKey(cmd)
    if (!u) return
    if (u.keep === 'last') last.set(u.key, i)
    else if (!first.has(u.key)) first.set(u.key, i)
  })
  return commands.filter((cmd, i) => {
    const u = upkeepKey(cmd)
    if (!u) return true
    return (u.keep === 'last' ? last.get(u.key) : first.get(u.key)) === i
  })
}
