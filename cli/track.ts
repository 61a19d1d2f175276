// `gateway track`: finds messages in the tracking records both instances write
// to Redis (through the search indexes, never by scanning) and prints each as a
// timeline across the inbound and outbound legs, or as JSON (--json, a stable
// schema). Finds the running gateway's Redis like `gateway stats`.
// Exit codes: 0 found, 1 nothing found, 64 usage, 69 no Redis.

import { findRecordIds, loadRecords, matchesRoles, relatedIds, type LoadedRecord } from '../lib/tracking/query'
import { parseTrackArgs } from '../lib/tracking/track-args'
import { formatGroup, groupMessages, jsonDocument } from '../lib/tracking/timeline'
import { withGatewayRedis } from './running-gateway'

const USAGE = `usage: gateway track [--message-id ID] [--from ADDR] [--to ADDR] [--client-ip IP]
                     [--since T] [--until T] [--limit N] [--json]
  T: relative (30m, 1h, 24h, 7d) or an ISO date/time (2026-12-01, 2026-12-01T08:00:00Z)
  filters combine; without any, the most recent messages (default --limit 20)`

/** Most legs of related messages loaded (a Message-ID reused by a mailing list could otherwise pull in thousands). */
const MAX_RELATED = 500
/** Records read per round trip while looking for --limit matches. */
const LOAD_SLICE = 200

export async function trackCommand(args: string[]): Promise<number> {
  const parsed = parseTrackArgs(args, Date.now())
  if ('error' in parsed) {
    console.error(`gateway: ${parsed.error}\n${USAGE}`)
    return 64
  }
  const { filters, json } = parsed
  return withGatewayRedis('tracking records', async (redis, keys) => {
    // most recent first, loaded in slices until --limit records match the sender/recipient roles asked for
    const found = await findRecordIds(redis, keys, filters)
    const loaded = new Map<string, LoadedRecord>()
    for (let i = 0; i < found.length && loaded.size < filters.limit; i += LOAD_SLICE) {
      for (const [id, l] of await loadRecords(redis, keys, found.slice(i, i + LOAD_SLICE))) {
        if (loaded.size < filters.limit && matchesRoles(l.reading, filters)) loaded.set(id, l)
      }
    }
    // the other legs of these messages (outbound after inbound, a release...), two hops at most
    for (let hop = 0; hop < 2; hop++) {
      const more = (await relatedIds(redis, keys, loaded)).slice(0, MAX_RELATED)
      if (more.length === 0) break
      for (const [id, l] of await loadRecords(redis, keys, more)) loaded.set(id, l)
    }
    const groups = groupMessages(loaded)
    if (json) console.log(JSON.stringify(jsonDocument(groups), null, 2))
    else if (groups.length === 0) console.error('gateway: no tracked message matches')
    else console.log(groups.map((g) => formatGroup(g).join('\n')).join('\n\n'))
    return groups.length > 0 ? 0 : 1
  })
}
