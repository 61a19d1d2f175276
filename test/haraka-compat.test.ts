// Haraka compatibility (lib/haraka): the version gate stops a real startup with
// one line and exit 78, and a known gap of Haraka 3.3.4's delivery queue, shown
// against a strict receiving server (lib/haraka/UPGRADING.md, "Known gaps").

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { CHECKED_HARAKA_VERSION } from '../lib/haraka'
import { makeDeploymentRoot, TestGateway } from './helpers/gateway'
import { addressBlock } from './helpers/net'

describe('the Haraka version gate at startup', () => {
  it('another Haraka version stops gateway-core in one line, exit 78, naming both versions and the checklist', () => {
    const root = makeDeploymentRoot()
    try {
      // gateway-core's register() as Haraka 3.99.0 would run it: only package.json differs from the installed Haraka
      const script = `
        const haraka = require('module').createRequire(require.resolve('haraka/package.json'))
        const core = require(${JSON.stringify(path.join(GATEWAY_ROOT, 'dist', 'plugins', 'gateway-core', 'plugin.js'))})
        const log = () => {}
        core.register.call({
          name: 'gateway-core', timeout: 30, config: { get: () => undefined }, register_hook() {},
          haraka_require: (p) => (p === './package.json' ? { version: '3.99.0' } : haraka(p)),
          loginfo: log, lognotice: log, logwarn: log, logerror: log, logcrit: log, logdebug: log,
        })
        console.log('started')`
      const r = spawnSync(process.execPath, ['-e', script], {
        cwd: GATEWAY_ROOT,
        env: { ...process.env, HARAKA: path.join(root, 'inbound'), GATEWAY_INSTANCE: 'inbound', GATEWAY_HARAKA_CHECKED: '' },
        encoding: 'utf8',
        timeout: 30_000,
      })
      expect(r.status).toBe(78)
      expect(r.stdout).not.toContain('started')
      expect(r.stderr.trim().split('\n')).toEqual([
        `gateway: Haraka 3.99.0 is installed, but the gateway's patches of Haraka internals were checked against ${CHECKED_HARAKA_VERSION}: ` +
          `install haraka@${CHECKED_HARAKA_VERSION} (npm ci), or go through lib/haraka/UPGRADING.md for 3.99.0 and start with GATEWAY_HARAKA_CHECKED=3.99.0`,
      ])
    } finally {
      fs.rmSync(root, { recursive: true, force: true })
    }
  })
})

/**
 * A receiving server as strict as Postfix with smtputf8_enable: a UTF-8 address is
 * refused unless MAIL FROM carried SMTPUTF8 (RFC 6531 3.4). Records each RCPT.
 */
class StrictUtf8Server {
  readonly rcpts: { from: string; to: string; smtpUtf8: boolean; accepted: boolean }[] = []
  readonly delivered: string[] = []
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    closeTimeout: 500,
    onRcptTo: (address, session, callback) => {
      const smtpUtf8 = session.envelope.smtpUtf8 === true
      const accepted = smtpUtf8 || /^[\x00-\x7f]*$/.test(address.address)
      this.rcpts.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: address.address, smtpUtf8, accepted })
      if (accepted) return callback()
      callback(Object.assign(new Error('5.6.7 Must declare SMTPUTF8 to send unicode address'), { responseCode: 553 }))
    },
    onData: (stream, session, callback) => {
      stream.resume()
      stream.on('end', () => {
        this.delivered.push(session.envelope.rcptTo.map((r) => r.address).join(','))
        callback()
      })
    },
  })

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.port, this.host, () => resolve())
    })
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

describe('known gap: SMTPUTF8 on delivery (Haraka 3.3.4 outbound/hmail.js, line 485)', () => {
  const block = addressBlock()
  const internal = new StrictUtf8Server(block.ip(3), 2526)
  const gw = new TestGateway({
    block,
    redisUrl: inject('redisUrl'),
    internalHosts: [`${internal.host}:${internal.port}`],
    instances: ['inbound'],
    files: { 'inbound/config/plugins': 'gateway-core\ngateway-accepted-domains\ngateway-spool\ngateway-routing\n' },
  })

  beforeAll(async () => {
    await internal.start()
    await gw.start()
  })
  afterAll(async () => {
    await gw.stop()
    await internal.stop()
  })

  async function receive(from: string, to: string): Promise<void> {
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    expect((await client.send(`MAIL FROM:<${from}> SMTPUTF8`)).code).toBe(250)
    expect((await client.send(`RCPT TO:<${to}>`)).code).toBe(250)
    expect((await client.data(`From: <${from}>\r\nTo: <${to}>\r\nSubject: utf8\r\n\r\nHallo\r\n`)).end?.code).toBe(250)
    await client.quit()
  }

  it('a UTF-8 sender: Haraka declares SMTPUTF8 and the strict server takes the message', async () => {
    await receive('jörg@sender.test', 'zoë@example.com')
    await expect.poll(() => internal.delivered, { timeout: 20_000 }).toContain('zoë@example.com')
    expect(internal.rcpts.find((r) => r.from === 'jörg@sender.test')).toMatchObject({ smtpUtf8: true, accepted: true })
  })

  // Haraka adds SMTPUTF8 to MAIL FROM only when the sender is non-ASCII; an ASCII
  // sender's RCPT TO a UTF-8 address goes out raw without it, and a strict server
  // refuses it (553 5.6.7: the message bounces). This pins today's behaviour: when
  // an upgrade fixes it, this test fails; then expect { smtpUtf8: true, accepted:
  // true } and drop the gap from UPGRADING.md and the README.
  it('known gap: an ASCII sender to a UTF-8 recipient goes out without SMTPUTF8, and the strict server refuses it', async () => {
    await receive('ascii@sender.test', 'zoë@example.com')
    await expect.poll(() => internal.rcpts.find((r) => r.from === 'ascii@sender.test'), { timeout: 20_000 }).toBeDefined()
    expect(internal.rcpts.find((r) => r.from === 'ascii@sender.test')).toEqual({ from: 'ascii@sender.test', to: 'zoë@example.com', smtpUtf8: false, accepted: false })
  })
})
