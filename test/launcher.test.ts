// The quick start: `gateway start` brings up Redis (a private redis-server when
// none is reachable), the demo mailbox and both instances, prints the banner,
// lets mail flow into .eml files, and stops cleanly on Ctrl-C (SIGINT).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { afterAll, describe, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { SmtpClient } from '../lib/smtp/client'
import { makeDeploymentRoot, sendMail, testMessage } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import { freePort } from './helpers/redis-server'

const roots: string[] = []
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true })
})

function launch(root: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const { REDIS_URL: _r, NODE_ENV: _n, VITEST: _v, ...inherited } = process.env
  const child = spawn(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'start'], {
    env: { ...inherited, GATEWAY_ROOT: root, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, output: () => out, exit }
}

async function waitFor(output: () => string, pattern: RegExp, timeoutMs = 45_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!pattern.test(output())) {
    if (Date.now() > until) throw new Error(`no ${pattern} in launcher output:\n${output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('gateway start', () => {
  it('runs the whole gateway with a private Redis and the demo mailbox, and stops cleanly on SIGINT', async () => {
    const block = addressBlock()
    const deadRedis = await freePort()
    const root = makeDeploymentRoot({
      'config/gateway.ini': `[internal]\nhosts[]=${block.ip(3)}:2526\n[redis]\nurl=redis://127.0.0.1:${deadRedis}\n[demo]\nmailbox_listen=${block.ip(3)}:2526\nmailbox_dir=var/mailbox\n`,
    })
    roots.push(root)
    const gw = launch(root, { GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
    await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/)
    const banner = gw.output()
    expect(banner).toContain(`inbound   ${block.ip(1)}:2525`)
    expect(banner).toContain('accepts anonymous Internet mail for: example.com')
    expect(banner).toContain(`${block.ip(3)}:2526 (DEMO mailbox: stores .eml files in ${path.join(root, 'var', 'mailbox')})`)
    expect(banner).toContain(`outbound  ${block.ip(2)}:2587`)
    expect(banner).toMatch(/redis {5}redis:\/\/127\.0\.0\.1:\d+ \(private redis-server, data in /)

    const { client } = await SmtpClient.connect({ host: block.ip(1), port: 2525 })
    await client.ehlo()
    const { text, marker } = testMessage({ from: 'a@sender.test', to: 'postmaster@example.com' })
    expect((await sendMail(client, { from: 'a@sender.test', to: ['postmaster@example.com'] }, text)).end!.code).toBe(250)
    await client.quit()
    const mailbox = path.join(root, 'var', 'mailbox')
    const until = Date.now() + 20_000
    let stored: string[] = []
    while (stored.length === 0 && Date.now() < until) {
      stored = fs.existsSync(mailbox) ? fs.readdirSync(mailbox).filter((f) => f.endsWith('.eml')) : []
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(stored).toHaveLength(1)
    expect(fs.readFileSync(path.join(mailbox, stored[0]!), 'utf8')).toContain(marker)

    gw.child.kill('SIGINT')
    expect(await gw.exit).toBe(0)
    expect(gw.output()).toContain('gateway: stopped')
    // nothing left listening
    await expect(SmtpClient.connect({ host: block.ip(1), port: 2525 })).rejects.toThrow(/ECONNREFUSED/)
  })

  it('says so and exits non-zero when an instance dies, stopping the rest', async () => {
    const block = addressBlock()
    const root = makeDeploymentRoot({ 'config/gateway.ini': `[internal]\nhosts[]=${block.ip(3)}:2526\n[demo]\nmailbox_listen=\n` })
    roots.push(root)
    const gw = launch(root, { REDIS_URL: inject('redisUrl'), GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
    await waitFor(gw.output, /Edge SMTP gateway is running[^]*Stop:/)
    const found = spawnSync('pgrep', ['-f', `haraka -c ${path.join(root, 'inbound')}$`], { encoding: 'utf8' })
    const pid = Number(found.stdout.trim().split('\n')[0])
    expect(pid).toBeGreaterThan(0)
    process.kill(pid, 'SIGKILL')
    expect(await gw.exit).toBe(1)
    expect(gw.output()).toContain('gateway: inbound exited unexpectedly')
    await expect(SmtpClient.connect({ host: block.ip(2), port: 2587 })).rejects.toThrow(/ECONNREFUSED/)
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
})
