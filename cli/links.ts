// `gateway links [--instance inbound|outbound] [--json]`: the link state of every
// destination, summed over all gateway nodes (they share one Redis): each remote
// domain the outbound instance delivers to and each internal mail server of the
// inbound instance, failing ones first. Reads the Redis the running gateway uses
// (see running-gateway.ts). Exit codes: 0, 64 usage, 69 Redis unavailable.

import { parseLinksArgs } from '../lib/links/args'
import { readLinks } from '../lib/links/read'
import { formatTable, toJson } from '../lib/links/view'
import { withGatewayRedis } from './running-gateway'

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
  return withGatewayRedis('link state', async (redis, keys) => {
    const now = Date.now()
    const states = await readLinks(redis, keys, parsed.instances, now)
    if (parsed.json) console.log(JSON.stringify(toJson(states, now), null, 2))
    else if (states.length === 0) console.log('no link state yet: nothing was delivered or queued since the gateway started recording (or it expired after 30 days)')
    else console.log(formatTable(states, now))
    return 0
  })
}
