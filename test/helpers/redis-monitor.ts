// A Redis MONITOR connection (ioredis) that survives ioredis's start-up race.
// ioredis sends MONITOR and switches the connection to "monitoring" in a promise
// continuation after the OK: monitor lines that arrive in the same read as the OK
// (Redis busy with other clients at that moment) are taken for command replies,
// and ioredis reports "Command queue state error", which rejects redis.monitor()
// (a benchmark run failed on it after 70 s). Those lines were sent before the
// monitor is handed over, so nothing a caller counts is lost: they are ignored.
// Any other error is kept and thrown by stop().

import Redis from 'ioredis'

export type MonitorListener = (args: string[], source: string) => void

export class RedisMonitor {
  private failure: Error | undefined

  private constructor(private readonly redis: Redis) {}

  /** Connected and monitoring when this resolves; `listener` sees every command from then on. */
  static async start(url: string, listener: MonitorListener): Promise<RedisMonitor> {
    const redis = new Redis(url, { monitor: true, lazyConnect: true, maxRetriesPerRequest: 1 })
    const monitor = new RedisMonitor(redis)
    let starting = true
    const started = new Promise<void>((resolve, reject) => {
      redis.on('error', (err: Error) => {
        if (starting && /Command queue state error/.test(err.message)) return
        if (starting) reject(err)
        else monitor.failure ??= err
      })
      redis.once('monitoring', () => {
        starting = false
        resolve()
      })
    })
    redis.on('monitor', (_time: string, args: string[], source: string) => listener(args, source))
    try {
      await redis.connect()
      await started
    } catch (err) {
      redis.disconnect()
      throw err
    }
    return monitor
  }

  /** Ends the connection; throws the first error seen while monitoring, if any. */
  stop(): void {
    this.redis.disconnect()
    if (this.failure) throw this.failure
  }
}
