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

/**
 * The identity of a command that a later (or earlier) identical one makes
 * redundant, prefixed "L" (the last one counts) or "F" (the first), or undefined.
 * Runs for every command of every flush: no array copies, one string.
 */
function upkeepKey(cmd: RedisCommand): string | undefined {
  const key = cmd[1]
  if (key === undefined) return undefined
  const n = cmd[0].toLowerCase()
  const args = cmd.length - 2
  if ((n === 'expire' || n === 'pexpire') && args === 1) return `L${n}\0${key}`
  if (n === 'zremrangebyscore' && args === 2 && cmd[2] === '-inf') return `L${n}\0${key}`
  if (n === 'xtrim' && cmd[2] === 'MINID') return `L${n}\0${key}\0${args}`
  if (n === 'sadd' && args === 1) return `F${n}\0${key}\0${cmd[2]}`
  return undefined
}

/** `commands` without the redundant housekeeping repeats; everything else in its order. */
export function coalesceUpkeep(commands: readonly RedisCommand[]): RedisCommand[] {
  const ids = commands.map(upkeepKey)
  // for each identity, the index of the one command that stays
  const kept = new Map<string, number>()
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    if (id !== undefined && (id[0] === 'L' || !kept.has(id))) kept.set(id, i)
  }
  return commands.filter((_cmd, i) => {
    const id = ids[i]
    return id === undefined || kept.get(id) === i
  })
}
