// Bad configuration stops startup with one line naming the file (or environment
// variable), the key and the problem: never a stack trace, never a half-started
// gateway. Checked through real Haraka starts and through `gateway check-config`.

import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { TestGateway, type Instance } from './helpers/gateway'
import { addressBlock } from './helpers/net'
import { TestCa } from './helpers/test-ca'

const gateways: TestGateway[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()))
})

function gateway(files: Record<string, string>, env: Record<string, string> = {}): TestGateway {
  const gw = new TestGateway({ block: addressBlock(), redisUrl: inject('redisUrl'), internalHosts: ['127.0.0.1:2526'], files, env })
  gateways.push(gw)
  return gw
}

/** Starts `instance` and expects the one-line configuration error. */
async function expectRefusal(gw: TestGateway, instance: Instance, message: string): Promise<void> {
  const { code, stderr, stdout } = await gw.startExpectingExit(instance)
  expect(code, stdout + stderr).toBe(78)
  const errorLines = stderr.split('\n').filter((l) => l.startsWith('gateway:'))
  expect(errorLines).toEqual([`gateway: configuration error: ${message}`])
  expect(stderr + stdout).not.toMatch(/^\s+at /m) // no stack trace
}

function checkConfig(gw: TestGateway): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'check-config'], {
    env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root },
    encoding: 'utf8',
  })
  return { status: r.status, stderr: r.stderr }
}

describe('configuration errors refuse to start', () => {
  it('unknown key in config/gateway.ini', async () => {
    const gw = gateway({ 'config/gateway.ini': '[internal]\nhosts[]=127.0.0.1:2526\n\n[redis]\nurll=redis://x\n' })
    const file = path.join(gw.root, 'config', 'gateway.ini')
    const expected = `${file}:5: [redis] urll: unknown key (known: url, sentinel_password_file, tls_ca_file, tls_cert_file, tls_key_file, prefix, connect_timeout_ms, stats_ttl_days)`
    await expectRefusal(gw, 'inbound', expected)
    const cli = checkConfig(gw)
    expect(cli.status).toBe(78)
    expect(cli.stderr.trim()).toBe(`gateway: configuration error: ${expected}`)
  })

  it('value of the wrong type', async () => {
    const gw = gateway({ 'config/gateway.ini': '[redis]\nconnect_timeout_ms=soon\n' })
    await expectRefusal(gw, 'outbound', `${path.join(gw.root, 'config', 'gateway.ini')}:2: [redis] connect_timeout_ms: "soon" is not a whole number`)
  })

  it('no internal mail server', async () => {
    const gw = gateway({ 'config/gateway.ini': '[redis]\nprefix=x\n' }, { GATEWAY_INTERNAL_HOSTS: '' })
    await expectRefusal(gw, 'inbound', `${path.join(gw.root, 'config', 'gateway.ini')}: [internal] hosts: is required (or set GATEWAY_INTERNAL_HOSTS)`)
  })

  it('a Redis TLS file that is missing, and TLS files with a URL that does not use TLS', async () => {
    const missing = gateway({ 'config/gateway.ini': '[internal]\nhosts[]=127.0.0.1:2526\n[redis]\nurl=rediss+sentinel://10.0.0.1/mymaster\ntls_ca_file=var/secrets/redis-ca.pem\n' })
    await expectRefusal(missing, 'inbound', `${path.join(missing.root, 'config', 'gateway.ini')}:5: [redis] tls_ca_file: cannot read ${path.join(missing.root, 'var', 'secrets', 'redis-ca.pem')}: ENOENT`)
    const ca = new TestCa()
    try {
      // (the test gateway's Redis comes from REDIS_URL, a redis:// URL, which is what the message names)
      const plain = gateway({ 'config/gateway.ini': '[internal]\nhosts[]=127.0.0.1:2526\n[redis]\ntls_ca_file=var/secrets/redis-ca.pem\n', 'var/secrets/redis-ca.pem': ca.cert })
      await expectRefusal(plain, 'outbound', `environment variable REDIS_URL: tls_ca_file is set, but the URL does not use TLS: write rediss://, rediss+sentinel:// or rediss+cluster://`)
    } finally {
      ca.remove()
    }
  })

  it('unparseable listen address in the environment', async () => {
    const gw = gateway({}, { GATEWAY_INBOUND_LISTEN: '127.0.0.1:99999' })
    await expectRefusal(gw, 'inbound', 'environment variable GATEWAY_INBOUND_LISTEN: "127.0.0.1:99999" has an invalid port')
  })

  it('unknown plugin', async () => {
    const plugins = fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', 'plugins'), 'utf8')
    const gw = gateway({ 'inbound/config/plugins': `${plugins}gateway-no-such-plugin\n` })
    const line = plugins.split('\n').length
    await expectRefusal(
      gw,
      'inbound',
      `${path.join(gw.root, 'inbound', 'config', 'plugins')}:${line}: gateway-no-such-plugin: unknown plugin (not built in, not in plugins/, not an installed haraka-plugin-* package)`,
    )
  })

  it('an AUTH plugin in the inbound instance', async () => {
    const plugins = fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', 'plugins'), 'utf8')
    const gw = gateway({ 'inbound/config/plugins': `${plugins}auth/flat_file\n` })
    const line = plugins.split('\n').length
    await expectRefusal(gw, 'inbound', `${path.join(gw.root, 'inbound', 'config', 'plugins')}:${line}: auth/flat_file: offers SMTP AUTH, which the Internet-facing inbound instance must never do`)
  })

  it('listen set in smtp.ini as well as in gateway.ini', async () => {
    const gw = gateway({ 'outbound/config/smtp.ini': '[main]\nnodes=0\nlisten=0.0.0.0:587\n' })
    await expectRefusal(
      gw,
      'outbound',
      `${path.join(gw.root, 'outbound', 'config', 'smtp.ini')}: listen: set the outbound listen address in config/gateway.ini [outbound] listen (or GATEWAY_OUTBOUND_LISTEN) instead`,
    )
  })

  it('bad plugin setting: a source IP this host does not have', async () => {
    const gw = gateway({ 'outbound/config/gateway-routing.ini': '[internet]\nsource_ip=192.0.2.1\n' })
    await expectRefusal(gw, 'outbound', `${path.join(gw.root, 'outbound', 'config', 'gateway-routing.ini')}: [internet] source_ip: 192.0.2.1 is not an address of this host`)
  })

  it('check-config refuses an X-Gateway-Org key file others can read, naming it', () => {
    const gw = gateway({})
    const file = path.join(gw.root, 'var', 'org-keys.json')
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify({ version: 1, keys: [{ id: 'kTestKey1', secret: Buffer.alloc(32, 7).toString('base64'), created: 1, retires: null }] }))
    fs.chmodSync(file, 0o644)
    const r = checkConfig(gw)
    expect(r.status).toBe(78)
    expect(r.stderr).toMatch(/^gateway: configuration error: .*org-keys\.json.*mode 0644/)
    expect(r.stderr).not.toContain(Buffer.alloc(32, 7).toString('base64'))
    fs.chmodSync(file, 0o600)
    const fixed = checkConfig(gw)
    expect(fixed.status, fixed.stderr).toBe(0)
  })

  it('a good configuration passes check-config', () => {
    const gw = gateway({})
    const r = checkConfig(gw)
    expect(r.status, r.stderr).toBe(0)
  })
})

/** `gateway check-config` on a deployment with `files` changed (no Haraka is started). */
async function checkConfigWith(files: Record<string, string>): Promise<{ status: number | null; stderr: string; root: string }> {
  const gw = new TestGateway({ block: addressBlock(), redisUrl: inject('redisUrl'), internalHosts: ['127.0.0.1:2526'], files })
  try {
    const child = spawn(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'check-config'], { env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root } })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return { status, stderr, root: gw.root }
  } finally {
    await gw.stop()
  }
}

/** The shipped plugins list of `instance` with `moved` taken out and put right before `anchor`; and the new line numbers. */
function reordered(instance: Instance, moved: string, anchor: string): { text: string; line: (name: string) => number } {
  const lines = fs.readFileSync(path.join(GATEWAY_ROOT, instance, 'config', 'plugins'), 'utf8').split('\n')
  const rest = lines.filter((l) => l.trim() !== moved)
  rest.splice(rest.findIndex((l) => l.trim() === anchor), 0, moved)
  return { text: rest.join('\n'), line: (name) => rest.findIndex((l) => l.trim() === name) + 1 }
}

// Without starting Haraka: what each plugin declares (settings schema, instances,
// order) is checked by `gateway check-config` for both instances.
describe.concurrent('check-config validates plugin settings, instances and order', () => {
  it('a typo in an inbound plugin .ini', async () => {
    const r = await checkConfigWith({ 'inbound/config/gateway-recipients.ini': '[harvest]\nenabled=true\nslow_aftr=5\n' })
    expect(r.status).toBe(78)
    expect(r.stderr.trim()).toBe(
      `gateway: configuration error: ${path.join(r.root, 'inbound', 'config', 'gateway-recipients.ini')}:3: [harvest] slow_aftr: unknown key (known: enabled, slow_after, block_after, delay_ms, max_delay_ms, window_seconds)`,
    )
  })

  it('a bad value in an outbound plugin .ini, and a check beyond the schema (a CA file that is not there)', async () => {
    const [auth, tls] = await Promise.all([
      checkConfigWith({ 'outbound/config/gateway-submission-auth.ini': '[lockout]\nwindow_seconds=forever\n' }),
      checkConfigWith({ 'outbound/config/gateway-tls-policy.ini': '[require]\ndomains[]=partner.test\nca_file=partner-ca.pem\n' }),
    ])
    expect(auth.status).toBe(78)
    expect(auth.stderr.trim()).toBe(
      `gateway: configuration error: ${path.join(auth.root, 'outbound', 'config', 'gateway-submission-auth.ini')}:2: [lockout] window_seconds: "forever" is not a whole number`,
    )
    expect(tls.status).toBe(78)
    expect(tls.stderr.trim()).toBe(
      `gateway: configuration error: ${path.join(tls.root, 'outbound', 'config', 'gateway-tls-policy.ini')}: [require] ca_file: ${path.join(tls.root, 'outbound', 'config', 'partner-ca.pem')} does not exist`,
    )
  })

  it('a plugin in the wrong instance', async () => {
    const plugins = fs.readFileSync(path.join(GATEWAY_ROOT, 'outbound', 'config', 'plugins'), 'utf8')
    const r = await checkConfigWith({ 'outbound/config/plugins': `${plugins}gateway-recipients\n` })
    expect(r.status).toBe(78)
    expect(r.stderr.trim()).toBe(
      `gateway: configuration error: ${path.join(r.root, 'outbound', 'config', 'plugins')}:${plugins.split('\n').length}: gateway-recipients: runs in the inbound instance only: remove it from the outbound instance`,
    )
  })

  it('inbound: gateway-accepted-domains before gateway-recipients (recipient validation would be skipped)', async () => {
    const { text, line } = reordered('inbound', 'gateway-accepted-domains', 'gateway-recipients')
    const r = await checkConfigWith({ 'inbound/config/plugins': text })
    expect(r.status).toBe(78)
    expect(r.stderr.trim()).toBe(
      `gateway: configuration error: ${path.join(r.root, 'inbound', 'config', 'plugins')}:${line('gateway-accepted-domains')}: gateway-accepted-domains: must come after gateway-recipients (line ${line('gateway-recipients')}): it ends the rcpt hook, so the rcpt hook of gateway-recipients would never run`,
    )
  })

  it('inbound: gateway-header-firewall not the first data_post plugin', async () => {
    const { text, line } = reordered('inbound', 'gateway-header-firewall', 'gateway-content')
    const r = await checkConfigWith({ 'inbound/config/plugins': text })
    expect(r.status).toBe(78)
    expect(r.stderr).toContain(
      `plugins:${line('gateway-header-firewall')}: gateway-header-firewall: must be the first data_post plugin, before gateway-message-syntax (line ${line('gateway-message-syntax')}): forged gateway headers are removed before any check reads the message`,
    )
  })

  it('inbound: gateway-dmarc before spf and dkim', async () => {
    const { text, line } = reordered('inbound', 'gateway-dmarc', 'spf')
    const r = await checkConfigWith({ 'inbound/config/plugins': text })
    expect(r.status).toBe(78)
    expect(r.stderr).toContain(`plugins:${line('gateway-dmarc')}: gateway-dmarc: must come after spf (line ${line('spf')}): it acts on the SPF result haraka-plugin-spf records at MAIL`)
  })
})

describe('plugin order is checked at startup too', () => {
  it('inbound with gateway-accepted-domains before gateway-recipients refuses to start: exit 78, one line', async () => {
    const { text, line } = reordered('inbound', 'gateway-accepted-domains', 'gateway-recipients')
    const gw = gateway({ 'inbound/config/plugins': text })
    await expectRefusal(
      gw,
      'inbound',
      `${path.join(gw.root, 'inbound', 'config', 'plugins')}:${line('gateway-accepted-domains')}: gateway-accepted-domains: must come after gateway-recipients (line ${line('gateway-recipients')}): it ends the rcpt hook, so the rcpt hook of gateway-recipients would never run`,
    )
  })
})

describe('an unavailable listen address refuses to start', () => {
  it('an instance run on its own (haraka -c, as systemd does) whose address is in use: one line, exit 69, no stack trace', async () => {
    const gw = gateway({})
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(gw.inbound.port, gw.inbound.host, resolve))
    try {
      const { code, stdout, stderr } = await gw.startExpectingExit('inbound')
      expect(code, stdout + stderr).toBe(69)
      expect(stderr.split('\n').filter((l) => l.startsWith('gateway:'))).toEqual([
        `gateway: cannot listen on ${gw.inbound.host}:${gw.inbound.port} (inbound instance, environment variable GATEWAY_INBOUND_LISTEN): address already in use (another process listens there)`,
      ])
      expect(stderr + stdout).not.toMatch(/^\s+at |EADDRINUSE|Failed to setup listeners/m)
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})
