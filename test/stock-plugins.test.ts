// A drop-in Haraka deployment: plugins that know nothing of the gateway load and
// act in the inbound pipeline next to the gateway's own. A stock plugin from npm
// (haraka-plugin-mail_from.is_resolvable, resolving through the gateway's DNS
// setting, here the fixture server) and a team's plain plugin file
// (<instance>/plugins/team_rules.js, with its own .ini) each refuse what they
// should with their own reply, while the gateway's checks keep working in the
// same session and the message that passes all of them is delivered.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { FixtureDns } from './helpers/dns-server'
import { sendMail, shippedInboundPlugins, testMessage, TestGateway } from './helpers/gateway'
import { gateway } from './helpers/generated-plugin'
import { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'

// A plain Haraka plugin as Haraka documents them: hook_* functions, Haraka's
// constants (DENY), haraka-dsn for the reply, its settings read through Haraka's
// config (inbound/config/team_rules.ini). It runs in Haraka's vm sandbox.
const TEAM_RULES = `'use strict'
const DSN = require('haraka-dsn')

exports.register = function () {
  this.cfg = this.config.get('team_rules.ini')
}

exports.hook_mail = function (next, connection, params) {
  const sender = params[0].address.toLowerCase()
  // Haraka's documented way for a plugin to switch another off for this message
  if (sender === this.cfg.main.skip_firewall) connection.transaction.notes.skip_plugins.push('gateway-header-firewall')
  if (sender !== this.cfg.main.refuse) return next()
  connection.transaction.results.add(this, { fail: 'refused_sender' })
  next(DENY, DSN.sec_unauthorized('Sender refused by team rule'))
}

exports.hook_data_post = function (next, connection) {
  connection.transaction.add_header('X-Team-Rules', 'checked')
  next()
}
`

const block = addressBlock()
const internal = new MailSink({ host: block.ip(3), port: 2526 })
const dns = new FixtureDns(block.ip(53), 5353)
  .add('good.test', { type: 'MX', preference: 10, exchange: 'mx.good.test' })
  .add('mx.good.test', { type: 'A', data: '192.0.2.25' })

/** The shipped inbound list with the two foreign plugins after gateway-sender-filter (MAIL: our own sender policy first). */
function pluginList(): string {
  const lines = shippedInboundPlugins().split('\n')
  const at = lines.indexOf('gateway-sender-filter')
  if (at < 0) throw new Error('gateway-sender-filter is not in the shipped inbound plugin list')
  lines.splice(at + 1, 0, 'mail_from.is_resolvable', 'team_rules')
  return lines.join('\n')
}

const gw = new TestGateway({
  block,
  redisUrl: inject('redisUrl'),
  internalHosts: [internal.address],
  dnsServer: dns.address,
  instances: ['inbound'],
  files: {
    'inbound/config/plugins': pluginList(),
    'inbound/plugins/team_rules.js': TEAM_RULES,
    'inbound/config/team_rules.ini': '[main]\nrefuse=blocked@good.test\nskip_firewall=trusted@good.test\n',
  },
})

beforeAll(async () => {
  await Promise.all([internal.start(), dns.start()])
  await gw.start()
})
afterAll(async () => {
  await gw.stop()
  await Promise.all([internal.stop(), dns.stop()])
})

describe('stock and plain Haraka plugins in the inbound pipeline', () => {
  it('check-config finds both (an installed npm package, a file in inbound/plugins/) and accepts the list', async () => {
    const r = await gateway(['check-config'], gw.root, gw.env('inbound'))
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/inbound plugins: .* gateway-sender-filter mail_from\.is_resolvable team_rules gateway-recipient-limit /)
  })

  it('the npm plugin refuses a sender domain without MX or address, looked up through the gateway DNS setting', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const r = await client.send('MAIL FROM:<someone@nowhere.test>')
    await client.quit()
    expect(r.code).toBe(550)
    expect(r.text).toContain('No MX for your FROM address')
    expect(dns.queries).toContain('MX nowhere.test')
  })

  it('the plain plugin refuses its listed sender with its own reply and enhanced code', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const r = await client.send('MAIL FROM:<Blocked@good.test>')
    await client.quit()
    expect([r.code, r.enhanced]).toEqual([550, '5.7.1'])
    expect(r.text).toContain('Sender refused by team rule')
  })

  it('a plugin that skips one gateway plugin (notes.skip_plugins) skips only that one: the next gateway check still runs', async () => {
    // gateway-header-firewall and gateway-message-syntax run as one Haraka entry at data_post
    // (lib/plugin/hook-chains.ts): skipping the first must not skip the second
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const { text } = testMessage({ from: 'trusted@good.test', to: 'colleague@example.com' })
    const r = await sendMail(client, { from: 'trusted@good.test', to: ['colleague@example.com'] }, `${text}with\0nul\r\n`)
    await client.quit()
    expect([r.rcpts[0]!.code, r.end?.code, r.end?.enhanced]).toEqual([250, 550, '5.6.0'])
  })

  it('next to them the gateway still decides (relaying refused), and a message all accept arrives with the plain plugin header', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    await client.send('MAIL FROM:<a@good.test>')
    const relay = await client.send('RCPT TO:<x@elsewhere.test>')
    expect([relay.code, relay.enhanced]).toEqual([550, '5.7.1']) // gateway-accepted-domains
    await client.send('RSET')
    const { text, marker } = testMessage({ from: 'a@good.test', to: 'colleague@example.com' })
    const r = await sendMail(client, { from: 'a@good.test', to: ['colleague@example.com'] }, text)
    await client.quit()
    expect([r.mail.code, r.rcpts[0]!.code, r.end?.code]).toEqual([250, 250, 250])
    const [msg] = (await internal.waitFor(1)).filter((m) => m.raw.includes(marker))
    expect(msg!.raw).toMatch(/^X-Team-Rules: checked\r?$/m)
    expect(dns.queries).toContain('MX good.test')
  })
})
