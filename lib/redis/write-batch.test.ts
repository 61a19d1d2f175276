// Tests of the write batch against the suite's real Redis (test/global-setup.ts)
// and a closed port (Redis down): counters and command units leave together in
// one MULTI with their TTLs; while Redis does not answer nothing is lost up to
// the bound, and what overflows is counted, never silently dropped.

import net from 'node:net'

import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { WriteBatch, type WriteUnit } from './write-batch'

const P = `wbtest${process.pid}`
let redis: Redis
let down: Redis

/** A port nothing listens on: commands to it fail at once, as with Redis stopped. */
async function closedPort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as net.AddressInfo
  await new Promise((r) => srv.close(r))
  return port
}

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'))
  down = new Redis({ port: await closedPort(), host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true })
  down.on('error', () => {})
})

afterAll(async () => {
  const keys = await redis.keys(`${P}:*`)
  if (keys.length) await redis.del(...keys)
  redis.disconnect()
  down.disconnect()
})

const unit = (n: number): WriteUnit => ({
  commands: [
    ['rpush', `${P}:list`, `item${n}`],
    ['expire', `${P}:list`, 600],
  ],
  missed: { key: `${P}:stats`, field: 'missed' },
})

/** A batch on whatever `client()` returns at each flush (tests switch it to simulate an outage). */
function batch(client: () => Redis, opts: { maxUnits?: number; errors?: Error[]; errorKey?: string; marker?: boolean } = {}) {
  return new WriteBatch({
    redis: client,
    counterTtlSeconds: 3600,
    flushIntervalMs: 60_000,
    maxUnits: opts.maxUnits ?? 100,
    errorCounter: () => ({ key: opts.errorKey ?? `${P}:stats`, field: 'write_failures' }),
    onError: (e) => opts.errors?.push(e),
    ...(opts.marker ? { appliedMarker: (token: string) => `${P}:flush:${token}` } : {}),
  })
}

describe('WriteBatch', () => {
  it('writes counters with their TTL and command units in one flush, in order', async () => {
    const b = batch(() => redis)
    b.incr(`${P}:stats`, 'messages', 2)
    b.incr(`${P}:stats`, 'messages')
    b.incr(`${P}:stats`, 'bytes', 0) // nothing to write
    b.push(unit(1))
    b.push(unit(2))
    await b.flush()
    expect(await redis.hgetall(`${P}:stats`)).toEqual({ messages: '3' })
    expect(await redis.ttl(`${P}:stats`)).toBeGreaterThan(3500)
    expect(await redis.lrange(`${P}:list`, 0, -1)).toEqual(['item1', 'item2'])
    expect(b.pendingUnits).toBe(0)
    await redis.del(`${P}:stats`, `${P}:list`)
  })

  it('gives a counter hash its own TTL when asked, the default otherwise, also after a failed flush', async () => {
    let client = down
    const b = batch(() => client, { errorKey: `${P}:errors` })
    b.incr(`${P}:minute`, 'messages', 1, 120)
    b.incr(`${P}:day`, 'messages')
    await b.flush() // Redis down: kept with their TTLs
    client = redis
    await b.flush()
    const minuteTtl = await redis.ttl(`${P}:minute`)
    expect(minuteTtl).toBeGreaterThan(100)
    expect(minuteTtl).toBeLessThanOrEqual(120)
    expect(await redis.ttl(`${P}:day`)).toBeGreaterThan(3500)
    expect(await redis.hget(`${P}:minute`, 'messages')).toBe('1')
    await redis.del(`${P}:minute`, `${P}:day`, `${P}:errors`)
  })

  it('keeps everything while Redis is down, counts the failed flush, and writes it all once a Redis answers', async () => {
    let client = down
    const errors: Error[] = []
    const b = batch(() => client, { errors })
    b.incr(`${P}:stats`, 'messages')
    b.push(unit(1))
    await b.flush()
    expect(errors.length).toBe(1)
    expect(b.pendingUnits).toBe(1)
    b.push(unit(2))
    await b.flush()
    expect(errors.length).toBe(2)
    client = redis // Redis is back
    await b.flush()
    expect(await redis.hgetall(`${P}:stats`)).toEqual({ messages: '1', write_failures: '2' })
    expect(await redis.lrange(`${P}:list`, 0, -1)).toEqual(['item1', 'item2'])
    await redis.del(`${P}:stats`, `${P}:list`)
  })

  it('drops the oldest units beyond the bound and counts each one as missed', async () => {
    let client = down
    const b = batch(() => client, { maxUnits: 3 })
    for (let i = 1; i <= 5; i++) b.push(unit(i))
    expect(b.pendingUnits).toBe(3)
    await b.flush() // fails: the three stay
    b.push(unit(6)) // pushes out item3
    client = redis
    await b.flush()
    expect(await redis.lrange(`${P}:list`, 0, -1)).toEqual(['item4', 'item5', 'item6'])
    expect(await redis.hgetall(`${P}:stats`)).toEqual({ missed: '3', write_failures: '1' })
    await redis.del(`${P}:stats`, `${P}:list`)
  })

  it('writes a backlog larger than one slice completely, and stop() writes what is pending', async () => {
    const b = batch(() => redis, { maxUnits: 10_000 })
    for (let i = 0; i < 4500; i++) b.push(unit(i))
    b.incr(`${P}:stats`, 'messages', 7)
    await b.stop()
    expect(await redis.llen(`${P}:list`)).toBe(4500)
    expect(await redis.hget(`${P}:stats`, 'messages')).toBe('7')
    await redis.del(`${P}:stats`, `${P}:list`)
  })

  it('leaves what arrives during a flush for the next interval: one MULTI per flush, not one per message', async () => {
    // a client of its own: MONITOR shows every client of the suite's shared Redis, and
    // only this one's EXECs are counted (by its address)
    const own = redis.duplicate()
    await own.ping()
    const address = `${own.stream.localAddress}:${own.stream.localPort}`
    const b = batch(() => own)
    const execs: string[] = []
    const monitor = await redis.duplicate().monitor()
    monitor.on('monitor', (_t: string, args: string[], source: string) => {
      if (String(args[0]).toUpperCase() === 'EXEC' && source === address) execs.push(source)
    })
    try {
      b.push(unit(1))
      const flushed = b.flush() // the MULTI is built now; its reply comes later
      b.push(unit(2)) // arrives while the EXEC is under way
      await flushed
      expect(await redis.lrange(`${P}:list`, 0, -1)).toEqual(['item1'])
      expect(b.pendingUnits).toBe(1)
      await b.flush()
      expect(await redis.lrange(`${P}:list`, 0, -1)).toEqual(['item1', 'item2'])
      await new Promise((r) => setTimeout(r, 100)) // MONITOR lines arrive after the replies
      expect(execs).toHaveLength(2)
    } finally {
      monitor.disconnect()
      own.disconnect()
      await redis.del(`${P}:list`)
    }
  })

  it('never counts twice a flush that Redis applied but whose reply was lost (command timeout, dropped connection)', async () => {
    let loseReply = true
    // the real client, except that the first EXEC's reply "never arrives": it ran on Redis all the same
    const lossy = new Proxy(redis, {
      get(target, prop, receiver) {
        if (prop !== 'multi') return Reflect.get(target, prop, receiver)
        return () => {
          const multi = target.multi()
          const exec = multi.exec.bind(multi)
          return Object.assign(multi, {
            exec: async () => {
              const replies = await exec()
              if (!loseReply) return replies
              loseReply = false
              throw new Error('Command timed out')
            },
          })
        }
      },
    })
    const errors: Error[] = []
    const b = batch(() => lossy, { errors, errorKey: `${P}:errors`, marker: true })
    b.incr(`${P}:stats`, 'messages', 5)
    b.push(unit(1))
    await b.flush() // applied, reply lost
    expect(errors.map((e) => e.message)).toEqual(['Command timed out'])
    b.incr(`${P}:stats`, 'messages', 1) // a newer count, not yet sent
    await b.flush() // finds the marker: the lost flush is not sent again; the newer count is
    expect(await redis.hget(`${P}:stats`, 'messages')).toBe('6')
    expect(await redis.lrange(`${P}:list`, 0, -1)).toEqual(['item1'])
    expect(b.pendingUnits).toBe(0)
    const markers = await redis.keys(`${P}:flush:*`)
    expect(markers.length).toBe(2)
    expect(await redis.ttl(markers[0]!)).toBeGreaterThan(80_000)
    await redis.del(`${P}:stats`, `${P}:list`, `${P}:errors`, ...markers)
  })

  it('sends a failed flush again when its marker shows it was not applied (Redis was down)', async () => {
    let client = down
    const b = batch(() => client, { errorKey: `${P}:errors`, marker: true })
    b.incr(`${P}:stats`, 'messages', 2)
    b.push(unit(1))
    await b.flush()
    await b.flush() // still down: cannot tell yet, kept
    expect(b.pendingUnits).toBe(1)
    client = redis
    await b.flush()
    expect(await redis.hget(`${P}:stats`, 'messages')).toBe('2')
    expect(await redis.lrange(`${P}:list`, 0, -1)).toEqual(['item1'])
    expect(await redis.hget(`${P}:errors`, 'write_failures')).toBe('1')
    const markers = await redis.keys(`${P}:flush:*`)
    await redis.del(`${P}:stats`, `${P}:list`, `${P}:errors`, ...markers)
  })

  it('gives up at stop() when Redis does not answer, keeping the count of what is left', async () => {
    const b = batch(() => down)
    b.push(unit(1))
    await b.stop()
    expect(b.pendingUnits).toBe(1)
  })
})
