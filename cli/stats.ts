// `gateway stats [DAYS]`: inbound versus outbound traffic per day, from the
// counters both instances write to Redis (summed over every gateway node): the
// Redis the running gateway uses (see running-gateway.ts).

import { dayOf, type Direction } from '../lib/redis/keys'
import { STAT } from '../lib/stats/fields'
import { withGatewayRedis } from './running-gateway'

const COLUMNS = [STAT.connections, STAT.messagesAccepted, STAT.messagesRejected, STAT.recipientsAccepted, STAT.recipientsRejected, STAT.bytesAccepted]

export async function statsCommand(args: string[]): Promise<number> {
  const days = Number(args[0] ?? 7)
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    console.error('usage: gateway stats [DAYS]   (default 7)')
    return 64
  }
  return withGatewayRedis('counters', async (redis, keys) => {
    console.log(['day', 'direction', ...COLUMNS].join('\t'))
    for (let i = days - 1; i >= 0; i--) {
      const day = dayOf(new Date(Date.now() - i * 86_400_000))
      for (const direction of ['inbound', 'outbound'] as Direction[]) {
        const h = await redis.hgetall(keys.stats(direction, day))
        console.log([day, direction, ...COLUMNS.map((c) => h[c] ?? '0')].join('\t'))
      }
    }
    return 0
  })
}
