// The quick start: `gateway start` brings up Redis (a private redis-server when
// none is reachable), the scan engines (a private rspamd and clamd when none
// answers; scanning OFF, mail marked unscanned, when they are not installed),
// the demo mailbox and both instances, prints the banner, lets mail flow into
// .eml files, and stops all of it cleanly on Ctrl-C (SIGINT). While it runs,
// var/run/gateway.json lets the other commands (gateway stats, send) find it
// without a flag; with no Redis anywhere it runs standalone; a normal run logs
// no ERROR.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { base64, SmtpClient } from '../lib/smtp/client'
import { eicar, TestClamd } from './helpers/clamd'
import { makeDeploymentRoot, sendMail, testMessage } from './helpers/gateway'
import { deadScannerFiles } from './helpers/launched'
import { addressBlock } from './helpers/net'
import { freePort } from './helpers/redis-server'
import { seedRspamdCache } from './helpers/rspamd'
import { lastReading, waitForMatch } from './helpers/wait'

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
const FROM = 'a@sender.test'
const TO = 'postmaster@example.com'
/** Programs that do not exist: rspamd and clamd "not installed". */
const ABSENT = { RSPAMD_BIN: '/nonexistent/rspamd', CLAMD_BIN: '/nonexistent/clamd' }

const roots: string[] = []
const launched: { child: ChildProcess; exit: Promise<number | null> }[] = []
// A failed assertion must not leave a gateway (and its engines) running: Ctrl-C it, as an operator would.
afterEach(async () => {
  for (const gw of launched.splice(0)) {
    if (gw.child.exitCode === null && gw.child.signalCode === null) {
      gw.child.kill('SIGINT')
      await gw.exit
    }
  }
}, 60_000)
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true })
})

/** A deployment root with the demo mailbox on block.ip(3) and dead scanner addresses. */
async function demoRoot(block: { ip: (n: number) => string }, gatewayIni = ''): Promise<string> {
  const root = makeDeploymentRoot({
    'config/gateway.ini': `[internal]\nhosts[]=${block.ip(3)}:2526\n${gatewayIni}[demo]\nmailbox_listen=${block.ip(3)}:2526\nmailbox_dir=var/mailbox\n`,
    ...(await deadScannerFiles()),
  })
  roots.push(root)
  // What a second `npm start` finds: compiled rspamd rules (a cold start takes 12-25 s).
  await seedRspamdCache(path.join(root, 'var', 'rspamd', 'db'))
  return root
}

/** The environment of a command run by an operator: none of the test runner's settings. */
function operatorEnv(): NodeJS.ProcessEnv {
  const { REDIS_URL: _r, NODE_ENV: _n, VITEST: _v, ...inherited } = process.env
  return inherited
}

function launch(root: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const inherited = operatorEnv()
  const child = spawn(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'start'], {
    // the shipped dashboard address (127.0.0.1:9180) would collide with other gateways started at once (test/dashboard.test.ts covers it)
    env: { ...inherited, GATEWAY_ROOT: root, GATEWAY_DASHBOARD_LISTEN: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  launched.push({ child, exit })
  return { child, output: () => out, exit }
}

async function waitFor(output: () => string, pattern: RegExp, timeoutMs = 45_000): Promise<void> {
  await waitForMatch(output, pattern, { timeoutMs, intervalMs: 100, where: 'launcher output' })
}

/** The .eml file in the demo mailbox holding `marker`. */
async function stored(root: string, marker: string): Promise<string> {
  const mailbox = path.join(root, 'var', 'mailbox')
  return vi.waitFor(
    () => {
      const files = fs.existsSync(mailbox) ? fs.readdirSync(mailbox).filter((f) => f.endsWith('.eml')) : []
      for (const f of files) {
        const raw = fs.readFileSync(path.join(mailbox, f), 'utf8')
        if (raw.includes(marker)) return raw
      }
      throw new Error(`nothing with ${marker} in ${mailbox} (${files.length} other message(s))`)
    },
    { timeout: 20_000, interval: 100 },
  )
}

/** The header block of a stored message. */
function headersOf(raw: string): string {
  return raw.slice(0, raw.search(/\r?\n\r?\n/))
}

/** One message through the inbound instance on its own connection; the end-of-DATA reply. */
async function send(host: string, text: string) {
  const { client } = await SmtpClient.connect({ host, port: 2525 })
  try {
    await client.ehlo()
    return (await sendMail(client, { from: FROM, to: [TO] }, text)).end!
  } finally {
    await client.quit()
  }
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host)
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

/** Another `gateway` command, run as an operator would in a second terminal (no REDIS_URL, no flags). */
function gatewayCli(root: string, args: string[], env: Record<string, string> = {}, input = '') {
  return spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), ...args], { env: { ...operatorEnv(), GATEWAY_ROOT: root, ...env }, input, encoding: 'utf8' })
}

/** `gateway stats 1` once its inbound row counts `messages` accepted (counters reach Redis once a second). */
async function statsOnceCounted(root: string, messages: number): Promise<string[][]> {
  return lastReading(
    () => {
      const r = gatewayCli(root, ['stats', '1'])
      expect(r.status, r.stderr).toBe(0)
      return r.stdout.trim().split('\n').map((l) => l.split('\t'))
    },
    (rows) => Number(rows[1]?.[3]) >= messages,
    { timeoutMs: 20_000, intervalMs: 200 },
  )
}

/** Lines of the instances (and launcher) logged at ERROR or worse. */
function errorLines(output: string): string[] {
  return output.split('\n').filter((l) => /\[(ERROR|CRIT|ALERT|EMERG)\]/.test(l))
}

/** One authenticated message through the outbound instance; the end-of-DATA reply. */
async function relay(host: string, user: string, password: string, m: { text: string }, to: string) {
  const { client } = await SmtpClient.connect({ host, port: 2587 })
  try {
    await client.ehlo()
    expect((await client.startTls()).code).toBe(220)
    await client.ehlo()
    expect((await client.send(`AUTH PLAIN ${base64(`\0${user}\0${password}`)}`)).code).toBe(235)
    return (await sendMail(client, { from: user, to: [to] }, m.text)).end!
  } finally {
    await client.quit()
  }
}

/** A PATH with openssl (first-start TLS material) and nothing else: no redis-server, rspamd or clamd. */
function pathWithoutRedis(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-path-'))
  roots.push(dir)
  const openssl = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).stdout.trim()
  fs.symlinkSync(openssl, path.join(dir, 'openssl'))
  return dir
}

function port(banner: string, pattern: RegExp): number {
  const m = pattern.exec(banner)
  expect(m, `${pattern} in:\n${banner}`).not.toBeNull()
  return Number(m![1])
}

describe('gateway start', () => {
  it('runs the whole gateway with a private Redis, private rspamd and clamd and the demo mailbox: spam and viruses refused, clean mail delivered scanned; SIGINT stops everything', async () => {
    const block = addressBlock()
    const root = await demoRoot(block, `[redis]\nurl=redis://127.0.0.1:${await freePort()}\n`)
    const gw = launch(root, { GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
    await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/, 90_000)
    const banner = gw.output()
    expect(banner).toContain(`inbound   ${block.ip(1)}:2525`)
    expect(banner).toContain('accepts anonymous Internet mail for: example.com')
    expect(banner).toContain(`${block.ip(3)}:2526 (DEMO mailbox: stores .eml files in ${path.join(root, 'var', 'mailbox')})`)
    expect(banner).toContain(`outbound  ${block.ip(2)}:2587`)
    expect(banner).toMatch(/redis {5}redis:\/\/127\.0\.0\.1:\d+ \(private redis-server, data in /)
    const rspamdPort = port(banner, new RegExp(`^  rspamd {4}spam scanning: 127\\.0\\.0\\.1:(\\d+) \\(private rspamd, data in ${path.join(root, 'var', 'rspamd')}; local rules only, no DNS or network checks\\)$`, 'm'))
    // demo signatures here (no freshclam data); a machine with /var/lib/clamav signatures uses those
    const clamdPort = port(
      banner,
      new RegExp(`^  clamd {5}virus scanning: 127\\.0\\.0\\.1:(\\d+) \\(private clamd, data in ${path.join(root, 'var', 'clamd')}; (demo signatures only: run freshclam|signatures from /var/lib/clamav)`, 'm'),
    )

    const spam = testMessage({ from: FROM, to: TO, body: `${GTUBE}\r\n` })
    expect(await send(block.ip(1), spam.text)).toMatchObject({ code: 550, enhanced: '5.7.1' })
    const virus = testMessage({ from: FROM, to: TO, body: eicar().toString('latin1') })
    expect(await send(block.ip(1), virus.text)).toMatchObject({ code: 554, enhanced: '5.7.1' })
    const clean = testMessage({ from: FROM, to: TO })
    expect((await send(block.ip(1), clean.text)).code).toBe(250)
    const headers = headersOf(await stored(root, clean.marker))
    expect(headers).toMatch(/^X-Gateway-SCL: [0-4]$/m)
    expect(headers).toMatch(/^X-Gateway-Checks: .*virus=clean \(accept\)/m)
    expect(headers).not.toMatch(/unscanned/)
    const files = fs.readdirSync(path.join(root, 'var', 'mailbox')).map((f) => fs.readFileSync(path.join(root, 'var', 'mailbox', f), 'utf8'))
    expect(files.some((raw) => raw.includes(spam.marker) || raw.includes(virus.marker))).toBe(false)

    // the README's next command finds the private Redis on its random port, with no flag
    const rows = await statsOnceCounted(root, 1)
    expect(rows[1]!.slice(1, 4)).toEqual(['inbound', '3', '1'])
    // refusing spam and viruses is normal operation, not an error
    expect(errorLines(gw.output())).toEqual([])

    gw.child.kill('SIGINT')
    expect(await gw.exit).toBe(0)
    expect(gw.output()).toContain('gateway: stopped')
    expect(fs.existsSync(path.join(root, 'var', 'run', 'gateway.json'))).toBe(false)
    // nothing left listening: instances, rspamd, clamd
    await expect(SmtpClient.connect({ host: block.ip(1), port: 2525 })).rejects.toThrow(/ECONNREFUSED/)
    expect(await listening('127.0.0.1', rspamdPort)).toBe(false)
    expect(await listening('127.0.0.1', clamdPort)).toBe(false)
  }, 120_000)

  it('without rspamd and clamd installed: the banner says scanning is OFF, and mail flows marked unscanned', async () => {
    const block = addressBlock()
    const root = await demoRoot(block)
    const gw = launch(root, { ...ABSENT, REDIS_URL: inject('redisUrl'), GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
    await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/)
    const banner = gw.output()
    expect(banner).toContain(
      '  rspamd    spam scanning: OFF (rspamd not installed: apt-get install rspamd; RSPAMD_BIN=/nonexistent/rspamd is not a program); mail is delivered marked "X-Gateway-Spam: unscanned"',
    )
    expect(banner).toContain(
      '  clamd     virus scanning: OFF (clamd not installed: apt-get install clamav-daemon; CLAMD_BIN=/nonexistent/clamd is not a program); mail is delivered marked "X-Gateway-Virus: unscanned"',
    )

    const { text, marker } = testMessage({ from: FROM, to: TO })
    expect((await send(block.ip(1), text)).code).toBe(250)
    const headers = headersOf(await stored(root, marker))
    expect(headers).toMatch(/^X-Gateway-Spam: unscanned$/m)
    expect(headers).toMatch(/^X-Gateway-Virus: unscanned$/m)
    expect(headers).toMatch(/^X-Gateway-Checks: .*virus=unscanned \(accept\)/m)
    expect(headers).toMatch(/^X-Gateway-Checks: .*spam=unscanned \(accept\)/m)
    expect(headers).not.toMatch(/^X-Gateway-SCL:/m)
    // nothing was started for them
    expect(fs.existsSync(path.join(root, 'var', 'clamd'))).toBe(false)
    expect(fs.existsSync(path.join(root, 'var', 'rspamd', 'conf'))).toBe(false)

    gw.child.kill('SIGINT')
    expect(await gw.exit).toBe(0)
  }, 90_000)

  it("uses an engine that answers at its configured address (here GATEWAY_CLAMD_SERVER), and keeps the operator's on_error for a missing one", async () => {
    const block = addressBlock()
    const clamd = await new TestClamd().start()
    try {
      const root = await demoRoot(block)
      const gw = launch(root, {
        RSPAMD_BIN: ABSENT.RSPAMD_BIN,
        GATEWAY_SPAM_ON_ERROR: 'tempfail',
        GATEWAY_CLAMD_SERVER: clamd.address,
        REDIS_URL: inject('redisUrl'),
        GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`,
        GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587`,
      })
      await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/)
      const banner = gw.output()
      expect(banner).toContain(`  clamd     virus scanning: ${clamd.address} (system clamd)`)
      expect(banner).toMatch(/^ {2}rspamd {4}spam scanning: OFF \(rspamd not installed: .*\); mail is refused with 451 \(on_error=tempfail: senders retry later\)$/m)
      expect(fs.existsSync(path.join(root, 'var', 'clamd'))).toBe(false)

      // the configured clamd scans: the virus is refused before the spam check runs
      const virus = testMessage({ from: FROM, to: TO, body: eicar().toString('latin1') })
      expect(await send(block.ip(1), virus.text)).toMatchObject({ code: 554, enhanced: '5.7.1' })
      // no rspamd and the operator's on_error=tempfail: the sender is asked to retry
      const clean = testMessage({ from: FROM, to: TO })
      expect(await send(block.ip(1), clean.text)).toMatchObject({ code: 451, enhanced: '4.7.1' })

      gw.child.kill('SIGINT')
      expect(await gw.exit).toBe(0)
      expect(await clamd.answers()).toBe(true) // not ours to stop
    } finally {
      await clamd.dispose()
    }
  }, 90_000)

  it('stops everything, its private Redis included, when the terminal goes away (SIGHUP), and at once on a second signal', async () => {
    for (const signals of [['SIGHUP'], ['SIGINT', 'SIGINT']] as const) {
      const block = addressBlock()
      const root = await demoRoot(block, `[redis]\nurl=redis://127.0.0.1:${await freePort()}\n`)
      const gw = launch(root, { ...ABSENT, GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
      await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/)
      const redisPort = port(gw.output(), /redis {5}redis:\/\/127\.0\.0\.1:(\d+) \(private redis-server/)
      gw.child.kill(signals[0])
      if (signals.length > 1) {
        // the second signal while the graceful stop runs (identical pending signals would merge)
        await waitFor(gw.output, /gateway: stopping\.\.\./)
        gw.child.kill(signals[1]!)
      }
      expect(await gw.exit).toBe(signals.length === 1 ? 0 : 1)
      expect(fs.existsSync(path.join(root, 'var', 'run', 'gateway.json'))).toBe(false)
      // nothing outlives the launcher: instances and the private Redis (killed with their
      // process groups when it exits; the kernel may take a moment to close the sockets)
      for (const [host, p] of [[block.ip(1), 2525], [block.ip(2), 2587], ['127.0.0.1', redisPort]] as const) {
        await expect.poll(async () => [host, p, await listening(host, p)], { timeout: 10_000, interval: 100 }).toEqual([host, p, false])
      }
    }
  }, 120_000)

  it('with restarts off, says so and exits non-zero when an instance dies, stopping the rest (private engines included)', async () => {
    const block = addressBlock()
    const root = await demoRoot(block)
    // restarts (the default) are tested in test/security/launcher-restart.test.ts
    const gw = launch(root, { REDIS_URL: inject('redisUrl'), GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587`, GATEWAY_RESTARTS_PER_MINUTE: '0' })
    await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/, 90_000)
    const rspamdPort = port(gw.output(), /^ {2}rspamd {4}spam scanning: 127\.0\.0\.1:(\d+) \(private rspamd/m)
    const clamdPort = port(gw.output(), /^ {2}clamd {5}virus scanning: 127\.0\.0\.1:(\d+) \(private clamd/m)
    const found = spawnSync('pgrep', ['-f', `haraka -c ${path.join(root, 'inbound')}$`], { encoding: 'utf8' })
    const pid = Number(found.stdout.trim().split('\n')[0])
    expect(pid).toBeGreaterThan(0)
    process.kill(pid, 'SIGKILL')
    expect(await gw.exit).toBe(1)
    expect(gw.output()).toContain('gateway: inbound exited unexpectedly')
    expect(fs.existsSync(path.join(root, 'var', 'run', 'gateway.json'))).toBe(false)
    await expect(SmtpClient.connect({ host: block.ip(2), port: 2587 })).rejects.toThrow(/ECONNREFUSED/)
    expect(await listening('127.0.0.1', rspamdPort)).toBe(false)
    expect(await listening('127.0.0.1', clamdPort)).toBe(false)
  }, 120_000)

  it('without Redis and without redis-server: runs standalone, says so, delivers mail both ways, logs no ERROR; the other commands find it through var/run/gateway.json', async () => {
    const block = addressBlock()
    // the shipped gateway.ini (internal hosts = the demo mailbox's address) with Redis at a closed port
    const shipped = fs.readFileSync(path.join(GATEWAY_ROOT, 'config', 'gateway.ini'), 'utf8')
    const redisUrl = `redis://127.0.0.1:${await freePort()}`
    const root = makeDeploymentRoot({ 'config/gateway.ini': shipped.replace(/^url=.*$/m, `url=${redisUrl}`), ...(await deadScannerFiles()) })
    roots.push(root)
    expect(gatewayCli(root, ['user', 'add', 'app@example.com'], {}, 'a-long-password\n').status).toBe(0)
    const gw = launch(root, {
      ...ABSENT,
      PATH: pathWithoutRedis(),
      GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`,
      GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587`,
      // moves the demo mailbox; the internal host that named its old address follows
      GATEWAY_DEMO_MAILBOX: `${block.ip(3)}:2526`,
    })
    await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/)
    const banner = gw.output()
    expect(banner).toContain(
      '  redis     OFF (standalone: counters kept in each process and written to Redis once one is configured and reachable; AUTH lockout and harvest defence enforced per process)',
    )
    expect(banner).toContain(`            Redis is not reachable at ${redisUrl} (config/gateway.ini [redis] url) and redis-server is not installed (apt-get install redis-server)`)
    expect(banner).toContain(`delivers it through its disk queue to: ${block.ip(3)}:2526 (DEMO mailbox: stores .eml files in ${path.join(root, 'var', 'mailbox')})`)

    // the runtime file: owner-only, naming the mode and the addresses in use
    const runDir = path.join(root, 'var', 'run')
    const file = path.join(runDir, 'gateway.json')
    expect([fs.statSync(runDir).mode & 0o777, fs.statSync(file).mode & 0o777]).toEqual([0o700, 0o600])
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; status: string; redis: unknown; instances: { inbound: { listen: string[] } }; internalHosts: string[] }
    expect(state).toMatchObject({ pid: gw.child.pid, status: 'running', redis: { mode: 'standalone', url: redisUrl, prefix: 'gw' }, internalHosts: [`${block.ip(3)}:2526`] })
    expect(state.instances.inbound.listen).toEqual([`${block.ip(1)}:2525`])

    // mail flows: in through inbound (found by `gateway send` without --server), and out through an authenticated relay
    const sent = gatewayCli(root, ['send', '--to', TO, '--subject', 'standalone'])
    expect(sent.status, sent.stdout + sent.stderr).toBe(0)
    expect(sent.stdout).toContain(`connecting to ${block.ip(1)}:2525`)
    expect(headersOf(await stored(root, 'Subject: standalone'))).toMatch(/^X-Gateway-Virus: unscanned$/m)
    const out = testMessage({ from: 'app@example.com', to: 'colleague@example.com' })
    expect((await relay(block.ip(2), 'app@example.com', 'a-long-password', out, 'colleague@example.com')).code).toBe(250)
    await stored(root, out.marker)

    // stats has no Redis to read: one line saying why, EX_UNAVAILABLE
    const stats = gatewayCli(root, ['stats', '1'])
    expect([stats.status, stats.stdout]).toEqual([69, ''])
    expect(stats.stderr).toMatch(new RegExp(`^gateway: the running gateway \\(pid ${gw.child.pid}, since [^)]+\\) runs standalone, without Redis: .*start Redis there and they are written within seconds\n$`))

    // the expected state is said once at start, never as an ERROR (nor the missing scanners, nor the missing DKIM key)
    expect(errorLines(gw.output())).toEqual([])
    // nor as a warning from the AUTH lockout counting in memory, as the banner announced
    expect(gw.output()).not.toMatch(/Redis unavailable/)
    expect(gw.output()).toMatch(/\[NOTICE\] \[-\] \[gateway-stats\] standalone mode/)
    expect(gw.output()).toMatch(/\[INFO\] .*\[gateway-outbound-scrub\] \S+ sent unsigned: no DKIM key for example\.com/)

    gw.child.kill('SIGINT')
    expect(await gw.exit).toBe(0)
    expect(fs.existsSync(file)).toBe(false)
  }, 90_000)

  it('an address in use: one line naming it and the setting, exit 69, nothing started', async () => {
    const block = addressBlock()
    const root = await demoRoot(block)
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(2525, block.ip(1), resolve))
    try {
      const gw = launch(root, { ...ABSENT, REDIS_URL: inject('redisUrl'), GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
      expect(await gw.exit).toBe(69)
      expect(gw.output()).toBe(
        `gateway: cannot listen on ${block.ip(1)}:2525 (inbound instance, environment variable GATEWAY_INBOUND_LISTEN): address already in use (another process listens there)\n`,
      )
      expect(fs.existsSync(path.join(root, 'var', 'run', 'gateway.json'))).toBe(false)
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })

  it('the other commands say so in one line when no gateway runs, and ignore a stale runtime file', async () => {
    const root = makeDeploymentRoot({ 'config/gateway.ini': `[internal]\nhosts[]=127.0.0.1:2526\n[redis]\nurl=redis://127.0.0.1:${await freePort()}\n` })
    roots.push(root)
    const none = gatewayCli(root, ['stats'])
    expect([none.status, none.stdout]).toEqual([69, ''])
    expect(none.stderr).toMatch(
      /^gateway: no gateway is running here \(no .*var\/run\/gateway\.json\), and Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+ \(.*gateway\.ini \[redis\] url\): .*; start the gateway with "npm start" \(or "node bin\/gateway start"\), or set REDIS_URL\n$/,
    )

    // left behind by a launcher that was killed: its pid is gone (a child that has exited)
    const dead = spawnSync(process.execPath, ['-e', '']).pid!
    fs.mkdirSync(path.join(root, 'var', 'run'), { recursive: true })
    const stale = { version: 1, pid: dead, pidStart: null, startedAt: '2026-01-01T00:00:00.000Z', status: 'running', redis: { mode: 'private', url: 'redis://127.0.0.1:1', prefix: 'gw' }, instances: {}, internalHosts: [], demoMailbox: null }
    fs.writeFileSync(path.join(root, 'var', 'run', 'gateway.json'), JSON.stringify(stale))
    const ignored = gatewayCli(root, ['stats'])
    expect(ignored.status).toBe(69)
    expect(ignored.stderr).toMatch(new RegExp(`^gateway: .*var/run/gateway\\.json is stale: its launcher \\(pid ${dead}, started 2026-01-01T00:00:00\\.000Z\\) is not running, and Redis is not reachable at redis://127\\.0\\.0\\.1:\\d+ \\(`))
    // with a Redis there, stats works and says the file was ignored
    const ok = gatewayCli(root, ['stats', '1'], { REDIS_URL: inject('redisUrl') })
    expect(ok.status, ok.stderr).toBe(0)
    expect(ok.stderr).toMatch(/^gateway: note: .*var\/run\/gateway\.json is stale: .*; ignored\n$/)
  })

  it('refuses to start with a clear message when REDIS_URL is set but unreachable', async () => {
    const root = makeDeploymentRoot()
    roots.push(root)
    const block = addressBlock()
    const gw = launch(root, { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
    expect(await gw.exit).toBe(69)
    expect(gw.output()).toMatch(/^gateway: Redis is not reachable at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+\. Start it, fix REDIS_URL, or unset REDIS_URL/m)
  })

  it('refuses to start on bad configuration with the one-line message', async () => {
    const root = makeDeploymentRoot({ 'config/accepted_domains': 'not a domain\n' })
    roots.push(root)
    const gw = launch(root, {})
    expect(await gw.exit).toBe(78)
    expect(gw.output().trim()).toBe(`gateway: configuration error: ${path.join(root, 'config', 'accepted_domains')}:1: not a domain: is not a domain name`)
  })

  it('refuses to start on a bad scanner override with the one-line message naming the variable', async () => {
    const root = makeDeploymentRoot()
    roots.push(root)
    const gw = launch(root, { GATEWAY_VIRUS_ON_ERROR: 'ignore' })
    expect(await gw.exit).toBe(78)
    expect(gw.output().trim()).toBe('gateway: configuration error: environment variable GATEWAY_VIRUS_ON_ERROR: "ignore" is not one of: tempfail, accept')
  })

  it('refuses a bad GATEWAY_DEMO_MAILBOX with the one-line message naming the variable', async () => {
    const root = makeDeploymentRoot()
    roots.push(root)
    const bad = launch(root, { GATEWAY_DEMO_MAILBOX: '127.0.0.1:99999' })
    expect(await bad.exit).toBe(78)
    expect(bad.output().trim()).toBe('gateway: configuration error: environment variable GATEWAY_DEMO_MAILBOX: "127.0.0.1:99999" has an invalid port (expected host:port or off)')
    // off, while the shipped [internal] hosts still name the demo mailbox's address: mail would go nowhere
    const off = launch(root, { GATEWAY_DEMO_MAILBOX: 'off' })
    expect(await off.exit).toBe(78)
    expect(off.output().trim()).toBe(
      `gateway: configuration error: environment variable GATEWAY_DEMO_MAILBOX: "off" leaves [internal] hosts in ${path.join(root, 'config', 'gateway.ini')} pointing at the demo mailbox address 127.0.0.1:2526, where no demo mailbox would run: set GATEWAY_INTERNAL_HOSTS to your mail server`,
    )
  })
})
