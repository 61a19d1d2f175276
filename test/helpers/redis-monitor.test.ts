// RedisMonitor against a real, busy redis-server: ioredis's own monitor() fails
// at start-up when monitor lines arrive together with MONITOR's OK (under this
// load it failed at the first start); every start must succeed, and the monitor
// must see the other client's commands.
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { RedisMonitor } from './redis-monitor'
import { TestRedis } from './redis-server'

const server = new TestRedis('127.0.0.1')
let busy: Redis
let stopBusy = false
let load: Promise<void>

beforeAll(async () => {
  await server.start()
  busy = new Redis(server.url)
  // a client writing without pause: Redis always has monitor lines to send
  load = (async () => {
    while (!stopBusy) {
      const p = busy.pipeline()
      for (let i = 0; i < 200; i++) p.incr('monitor-test:busy')
      await p.exec()
    }
  })()
})

afterAll(async () => {
  stopBusy = true
  await load
  busy.disconnect()
  await server.stop()
})

describe('RedisMonitor', () => {
  it('starts every time while Redis is busy, and sees the other client commands', async () => {
    for (let i = 0; i < 30; i++) {
      let seen = 0
      const monitor = await RedisMonitor.start(server.url, (args) => {
        if (args[0]?.toLowerCase() === 'incr' && args[1] === 'monitor-test:busy') seen++
      })
      await expect.poll(() => seen, { timeout: 5_000, interval: 5 }).toBeGreaterThan(0)
      monitor.stop()
    }
  })
})
