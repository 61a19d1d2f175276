// `gateway links [--instance inbound|outbound] [--json]`: the link state of every
// destination, summed over all gateway nodes (they share one Redis): each remote
// domain the outbound instance delivers to and each internal mail server of the
// inbound instance, failing ones first. Reads the Redis the running gateway uses
// (see running-gateway.ts). Exit codes: 0, 64 usage, 69 Redis unavailable.

import { parseLinksArgs } from '../lib/links/args'
import { readLinks } from '../lib/links/read'
import { formatTable, toJson } from '../lib/links/view'
import { redact } from '../lib/redis/client'
import { RedisKeys } from '../lib/redis/keys'
import { connectGatewayRedis, runningGateway, staleNote } from './running-gateway'

const USAGE = 'usage: gateway links [--instance inbound|outbound] [--json]'

export async function linksCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE)
    return 0
  }
  const parsed = parseLinksArgs(args)
  if ('problem' in parsed) {
    console.error(`gateway links: ${parsed.problem}\n${USAGE}`)
    return 64 // EX_USAGE
  }
  const gateway = runningGateway()
  const connected = await connectGatewayRedis(gateway)
  if ('problem' in connected) {
    console.error(`gateway: ${connected.problem}`)
    return 69 // EX_UNAVAILABLE
  }
  const note = staleNote(gateway)
  if (note) console.error(`gateway: note: ${note}`)
  const { redis, target } = connected
  try {
    const now = Date.now()
    const states = await readLinks(redis, new RedisKeys(target.prefix), parsed.instances, now)
    if (parsed.json) console.log(JSON.stringify(toJson(states, now), null, 2))
    else if (states.length === 0) console.log('no link state yet: nothing was delivered or queued since the gateway started recording (or it expired after 30 days)')
    else console.log(formatTable(states, now))
    return 0
  } catch (err) {
    console.error(`gateway: cannot read link state from Redis at ${redact(target.url)} (${target.source}): ${(err as Error).message}`)
    return 69
  } finally {
    redis.disconnect()
  }
}
