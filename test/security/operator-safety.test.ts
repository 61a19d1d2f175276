// Operator-side safety (issue 11): what a local user or a Redis outage must not
// be able to do to a running gateway.
// - Under `gateway start`, started from a shell with umask 022: queued and
//   quarantined messages, the runtime file, the event log and the private
//   Redis's files are owner-only, and folders an earlier version left open are narrowed.
// - The private Redis requires a generated password: a plain client gets NOAUTH,
//   the gateway's own commands keep working, the password is in no argv and no output.
// - A Redis outage leaves the AUTH lockout and the harvest defence in force,
//   counted in the process, and Redis coming back empty does not reset them.
// - Neither the greeting nor the Received header names the software; both are configurable.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import Redis from 'ioredis'
import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { base64, SmtpClient, type SmtpReply } from '../../lib/smtp/client'
import { addUser, delivered, gatewayWithSink, probeRecipients } from '../helpers/fixtures'
import { makeDeploymentRoot, sendMail, testMessage, type TestGateway } from '../helpers/gateway'
import { startGateway, trackLaunches } from '../helpers/launched'
import { addressBlock } from '../helpers/net'
import { freePort, TestRedis } from '../helpers/redis-server'
import { waitForMatch } from '../helpers/wait'

const PASSWORD = 'correct horse battery'

async function tlsSession(g: TestGateway, from: string): Promise<SmtpClient> {
  const { client } = await g.connect('outbound', from)
  await client.ehlo()
  expect((await client.startTls()).code).toBe(220)
  await client.ehlo()
  return client
}

/** AUTH LOGIN as Outlook and Exchange connectors send it. */
async function authLogin(client: SmtpClient, user: string, password: string): Promise<SmtpReply> {
  expect((await client.send('AUTH LOGIN')).code).toBe(334)
  expect((await client.send(base64(user))).code).toBe(334)
  return client.send(base64(password))
}

describe('AUTH lockout and harvest defence through a Redis outage (shipped lockout settings)', () => {
  const block = addressBlock()
  const redis = new TestRedis(block.ip(6), 6379)
  const { gw } = gatewayWithSink({
    block,
    redisUrl: redis.url,
    services: [redis],
    instances: ['inbound', 'outbound'],
    files: {
      'inbound/config/valid_recipients': 'alice@example.com\n',
      'inbound/config/gateway-recipients.ini': '[harvest]\nslow_after=2\nblock_after=4\ndelay_ms=50\nwindow_seconds=600\n',
    },
    prepare: ({ gw }) => {
      addUser(gw, 'server@example.com', PASSWORD)
      addUser(gw, 'other@example.com', PASSWORD)
    },
  })

  it('15 wrong passwords in 15 parallel sessions of one account and a prober spread over sessions, while Redis is down: both stay locked out after Redis comes back empty', async () => {
    await redis.stop()
    const from = block.ip(30)
    const wrong = await Promise.all(
      Array.from({ length: 15 }, async (_, i) => {
        const c = await tlsSession(gw, from)
        const r = await authLogin(c, 'server@example.com', `guess ${i}`)
        await c.quit()
        return r.code
      }),
    )
    expect(wrong.filter((c) => c !== 535 && c !== 454)).toEqual([])

    const prober = block.ip(31)
    const probe = (users: string[]) => probeRecipients(gw, prober, users)
    expect(await probe(['u1', 'u2'])).toEqual([550, 550])
    expect(await probe(['u3', 'u4'])).toEqual([550, 421])

    // Redis back, without the counts (restarted without saving, or a failover)
    await redis.start()
    await gw.waitForLog('outbound', /redis reachable again/, 20_000)
    await gw.waitForLog('inbound', /redis reachable again/, 20_000)

    const c = await tlsSession(gw, from)
    const right = await authLogin(c, 'server@example.com', PASSWORD)
    await c.quit()
    expect([right.code, right.enhanced]).toEqual([454, '4.7.0'])
    const again = await gw.connect('inbound', prober)
    expect([again.greeting.code, again.greeting.enhanced]).toEqual([421, '4.7.0'])
    await again.client.waitClosed()
    // no one else is refused
    const other = await tlsSession(gw, block.ip(32))
    expect((await authLogin(other, 'other@example.com', PASSWORD)).code).toBe(235)
    await other.quit()
    expect([gw.isRunning('inbound'), gw.isRunning('outbound')]).toEqual([true, true])
  }, 60_000)
})

describe('server identity: greeting and Received header', () => {
  const shippedIni = fs.readFileSync(path.join(GATEWAY_ROOT, 'config', 'gateway.ini'), 'utf8')
  const { gw, sink, variants } = gatewayWithSink({
    variants: {
      configured: {
        files: { 'config/gateway.ini': shippedIni.replace(/^\[smtp\]$/m, '[smtp]\ngreeting=Mail service at your service\nreceived_product=Example Edge') },
      },
    },
  })

  /** Every reply of one delivered message, and the bytes the internal server got. */
  async function session(g: TestGateway) {
    const { client, greeting } = await g.connect('inbound')
    const { reply: ehlo } = await client.ehlo()
    const m = testMessage({ from: 'a@sender.test', to: 'postmaster@example.com' })
    const sent = await sendMail(client, { from: 'a@sender.test', to: ['postmaster@example.com'] }, m.text)
    const quit = await client.send('QUIT')
    const msg = await delivered(sink, m.marker)
    const received = /^Received: [^]*?(?=^\S)/m.exec(msg.raw)?.[0] ?? ''
    const replies = [greeting, ehlo, sent.mail, ...sent.rcpts, sent.data, sent.end, quit].map((r) => r?.lines.join('\n') ?? '')
    return { greeting, received, replies }
  }

  it('by default: no reply and no Received header names the software', async () => {
    const { greeting, received, replies } = await session(gw)
    expect([greeting.code, greeting.lines[0]]).toEqual([220, expect.stringMatching(/^\S+ ESMTP ready \([0-9A-F]{6}\)$/)])
    expect(received).toMatch(/\tby \S+ with ESMTP id /)
    for (const text of [...replies, received]) expect(text).not.toMatch(/haraka/i)
  })

  it('with [smtp] greeting and received_product: the configured text', async () => {
    const { greeting, received } = await session(variants.configured)
    expect([greeting.code, greeting.lines[0]]).toEqual([220, expect.stringMatching(/^\S+ ESMTP Mail service at your service \([0-9A-F]{6}\)$/)])
    expect(received).toMatch(/\tby \S+ \(Example Edge\) with ESMTP id /)
    expect(received).not.toMatch(/haraka/i)
  })
})

describe('gateway start from a shell with umask 022', () => {
  const launched = trackLaunches()
  const { roots } = launched

  const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8)

  it('keeps mail and runtime files owner-only, narrows old open folders, and locks its private Redis with a password no one else sees', async () => {
    const block = addressBlock()
    const closed = `127.0.0.1:${await freePort()}`
    const root = makeDeploymentRoot({
      // the internal server is down: the accepted message stays in the queue
      'config/gateway.ini': `[internal]\nhosts[]=${closed}\n[redis]\nurl=redis://${closed}\n[dashboard]\nlisten=off\n`,
      'inbound/config/valid_recipients': 'alice@example.com\n',
      'inbound/config/gateway-recipients.ini': '[main]\naction=quarantine\n',
    })
    roots.push(root)
    // what an earlier version, started under umask 022, left behind
    for (const dir of ['inbound/queue', 'inbound/quarantine', 'var/redis']) fs.mkdirSync(path.join(root, dir), { recursive: true, mode: 0o755 })
    const gw = await startGateway(launched, root, { GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` }, { umask: '022' })
    const { child } = gw

    // one message queued (internal server down), one quarantined (unknown recipient)
    for (const to of ['alice@example.com', 'nobody@example.com']) {
      const client = (await SmtpClient.connect({ host: block.ip(1), port: 2525 })).client
      await client.ehlo()
      const m = testMessage({ from: 'a@sender.test', to })
      expect((await sendMail(client, { from: 'a@sender.test', to: [to] }, m.text)).end?.code).toBe(250)
      await client.quit()
    }
    const queue = path.join(root, 'inbound', 'queue')
    const quarantine = path.join(root, 'inbound', 'quarantine')
    const filesIn = (dir: string, re: RegExp) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => re.test(f)) : [])
    await waitForMatch(() => `${filesIn(queue, /^\d/).length} ${filesIn(quarantine, /\.eml$/).length}`, /^[1-9]\d* [1-9]/, { timeoutMs: 20_000, where: 'queue and quarantine' })
    const queued = path.join(queue, filesIn(queue, /^\d/)[0]!)
    const held = path.join(quarantine, filesIn(quarantine, /\.eml$/)[0]!)
    const redisDir = path.join(root, 'var', 'redis')
    const runtime = path.join(root, 'var', 'run', 'gateway.json')
    const events = path.join(root, 'var', 'log', 'gateway-events.jsonl')
    // the event log writes its lines every 0.2 s: the file appears with the first batch
    await waitForMatch(() => String(fs.existsSync(events)), /^true$/, { timeoutMs: 5_000, where: 'the event log file' })
    expect({
      queue: mode(queue),
      queued: mode(queued),
      quarantine: mode(quarantine),
      held: mode(held),
      runtime: mode(runtime),
      events: mode(events),
      redisDir: mode(redisDir),
      password: mode(path.join(redisDir, 'redis.password')),
      conf: mode(path.join(redisDir, 'redis.conf')),
    }).toEqual({ queue: '700', queued: '600', quarantine: '700', held: '600', runtime: '600', events: '600', redisDir: '700', password: '600', conf: '600' })
    expect(gw.output()).toMatch(/inbound\/queue was mode 0755: narrowed to 0700/)

    // the private Redis: a plain client is refused, the gateway's commands are not
    const password = fs.readFileSync(path.join(redisDir, 'redis.password'), 'utf8').trim()
    expect(password).toMatch(/^[0-9a-f]{64}$/)
    const state = JSON.parse(fs.readFileSync(runtime, 'utf8')) as { redis: { url: string; mode: string } }
    expect(state.redis.mode).toBe('private')
    const port = Number(/:(\d+)$/.exec(state.redis.url)![1])
    const plain = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    plain.on('error', () => {})
    await plain.connect()
    await expect(plain.set('gw:harvest:203.0.113.9', '999')).rejects.toThrow(/NOAUTH/)
    plain.disconnect()
    const { REDIS_URL: _r, NODE_ENV: _n, VITEST: _v, ...inherited } = process.env
    const stats = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'stats', '1'], { env: { ...inherited, GATEWAY_ROOT: root }, encoding: 'utf8' })
    expect(stats.status, stats.stderr).toBe(0)
    expect(stats.stdout).toMatch(/inbound/)

    // ... and the password is in no process's arguments and in nothing printed
    const pids = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean)
    const grandchildren = pids.flatMap((p) => spawnSync('pgrep', ['-P', p], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean))
    const argvs = [...pids, ...grandchildren].map((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'))
    expect(argvs.some((a) => a.startsWith('redis-server'))).toBe(true)
    for (const argv of argvs) expect(argv).not.toContain(password)
    expect(gw.output()).not.toContain(password)
    expect(gw.output()).toContain(`redis     redis://127.0.0.1:${port} (private redis-server, data in ${redisDir}, password in ${path.join(redisDir, 'redis.password')})`)
  }, 90_000)
})
