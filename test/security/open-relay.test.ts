// Open relay, tried as attackers and scanners try it, on both instances:
// - nmap's smtp-open-relay script itself (16 MAIL/RCPT combinations: %-hack,
//   bang paths, source routes, quoted locals, address literals), run against
//   each instance from the Debian nmap package;
// - the same forms and the second-hop forms aimed at the accepted domain
//   (victim%other@example.com, other!victim@example.com, @example.com:victim@other,
//   "victim@other"@example.com), replayed here so every reply code and enhanced
//   code is checked, not only nmap's verdict.
// Inbound must refuse every one (it relays only to its accepted domains, and a
// routing form inside one of their local parts would be a second hop the internal
// server might honour, as Postfix's allow_untrusted_routing=no refuses); outbound
// refuses all of them before AUTH.

import { execFile } from 'node:child_process'
import net from 'node:net'
import { promisify } from 'node:util'

import { describe, expect, it } from 'vitest'

import { gatewayWithSink } from '../helpers/fixtures'
import type { TestGateway } from '../helpers/gateway'
import { addressBlock } from '../helpers/net'

/** An open relay, to check the check: greets and says 250 to every line. */
const openRelay = net.createServer((socket) => {
  socket.write('220 relay.test ESMTP\r\n')
  socket.on('data', (d) => {
    for (const line of d.toString('latin1').split('\r\n').filter(Boolean)) socket.write(/^QUIT/i.test(line) ? '221 bye\r\n' : '250 ok\r\n')
  })
  socket.on('error', () => undefined)
})
const block = addressBlock()
const { gw } = gatewayWithSink({
  block,
  instances: ['inbound', 'outbound'],
  services: [{ start: () => new Promise<void>((resolve) => openRelay.listen(2500, block.ip(9), resolve)), stop: () => new Promise<void>((resolve) => openRelay.close(() => resolve())) }],
})

const execFileAsync = promisify(execFile)
const ATTACKER = 'relaytest.test'
/** nmap's own set, with its defaults: from antispam@, to relaytest@, ip = the target. */
function nmapForms(ip: string, srvname: string): [from: string, to: string][] {
  const d = ATTACKER
  return [
    ['', `relaytest@${d}`],
    [`antispam@${d}`, `relaytest@${d}`],
    [`antispam@${srvname}`, `relaytest@${d}`],
    [`antispam@[${ip}]`, `relaytest@${d}`],
    [`antispam@[${ip}]`, `relaytest%${d}@[${ip}]`],
    [`antispam@[${ip}]`, `relaytest%${d}@${srvname}`],
    [`antispam@[${ip}]`, `"relaytest@${d}"`],
    [`antispam@[${ip}]`, `"relaytest%${d}"`],
    [`antispam@[${ip}]`, `relaytest@${d}@[${ip}]`],
    [`antispam@[${ip}]`, `"relaytest@${d}"@[${ip}]`],
    [`antispam@[${ip}]`, `relaytest@${d}@${srvname}`],
    [`antispam@[${ip}]`, `@[${ip}]:relaytest@${d}`],
    [`antispam@[${ip}]`, `@${srvname}:relaytest@${d}`],
    [`antispam@[${ip}]`, `${d}!relaytest`],
    [`antispam@[${ip}]`, `${d}!relaytest@[${ip}]`],
    [`antispam@[${ip}]`, `${d}!relaytest@${srvname}`],
  ]
}
/** Second-hop forms through the accepted domain: the internal server would route them on. */
const SECOND_HOP = [
  `victim%${ATTACKER}@example.com`,
  `${ATTACKER}!victim@example.com`,
  `@example.com:victim@${ATTACKER}`,
  `"victim@${ATTACKER}"@example.com`,
  `victim@${ATTACKER}@example.com`,
  `"victim%${ATTACKER}"@example.com`,
  `victim@example.com@${ATTACKER}`,
]

async function tryRelay(gw: TestGateway, instance: 'inbound' | 'outbound', from: string, to: string): Promise<string> {
  const { client } = await gw.connect(instance)
  try {
    await client.ehlo('attacker.test')
    const mail = await client.send(`MAIL FROM:<${from}>`)
    if (mail.code !== 250) return `MAIL ${mail.code} ${mail.text}`
    const rcpt = await client.send(`RCPT TO:<${to}>`)
    return `${rcpt.code} ${rcpt.text}`
  } finally {
    await client.quit().catch(() => undefined)
  }
}

/** nmap's smtp-open-relay against host:port ("+": run it whatever service nmap guesses for the port); its output. */
async function runNmap(host: string, port: number): Promise<string> {
  // asynchronous: the open relay below answers from this process
  const { stdout } = await execFileAsync('nmap', ['-Pn', '-n', '-p', String(port), '--script', '+smtp-open-relay', '--script-args', `smtp-open-relay.domain=${ATTACKER}`, '-vv', host], { timeout: 120_000 })
  return stdout
}

it('nmap recognises an open relay when it sees one', async () => {
  expect(await runNmap(block.ip(9), 2500)).toMatch(/smtp-open-relay: Server is an open relay \(16\/16 tests\)/)
}, 150_000)

describe('inbound', () => {
  it("nmap's smtp-open-relay finds no relay", async () => {
    const out = await runNmap(gw.inbound.host, gw.inbound.port)
    expect(out).toMatch(/smtp-open-relay: Server doesn't seem to be an open relay, all tests failed/)
  }, 150_000)

  it("refuses every form of nmap's set with 5xx and an enhanced code", async () => {
    const { greeting, client } = await gw.connect('inbound')
    await client.quit()
    const srvname = /^(\S+)/.exec(greeting.text)![1]!
    for (const [from, to] of nmapForms(gw.inbound.host, srvname)) {
      const reply = await tryRelay(gw, 'inbound', from, to)
      expect(reply, `MAIL FROM:<${from}> RCPT TO:<${to}>`).toMatch(/^(MAIL )?5\d\d 5\.\d\.\d+ /)
    }
  })

  it('refuses second-hop routing through the accepted domain', async () => {
    for (const to of SECOND_HOP) {
      const reply = await tryRelay(gw, 'inbound', 'someone@sender.test', to)
      expect(reply, `RCPT TO:<${to}>`).toMatch(/^5\d\d 5\.\d\.\d+ /)
    }
  })
})

describe('outbound, without AUTH', () => {
  it("nmap's smtp-open-relay finds no relay", async () => {
    const out = await runNmap(gw.outbound.host, gw.outbound.port)
    expect(out).not.toMatch(/Server is an open relay/)
    expect(out).toMatch(/smtp-open-relay: (Server doesn't seem to be an open relay, all tests failed|.*authentication)/i)
  }, 150_000)

  it('refuses every form, and the second hops, with 530 5.7.0 (or 5xx at MAIL)', async () => {
    const { greeting, client } = await gw.connect('outbound')
    await client.quit()
    const srvname = /^(\S+)/.exec(greeting.text)![1]!
    const forms = [...nmapForms(gw.outbound.host, srvname), ...SECOND_HOP.map((to) => ['someone@example.com', to] as [string, string])]
    for (const [from, to] of forms) {
      const reply = await tryRelay(gw, 'outbound', from, to)
      expect(reply, `MAIL FROM:<${from}> RCPT TO:<${to}>`).toMatch(/^(530 5\.7\.0 |501 5\.1\.3 |MAIL 5\d\d 5\.\d\.\d+ )/)
    }
  })
})
