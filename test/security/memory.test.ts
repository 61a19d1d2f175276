// Memory under large concurrent messages (issue 11): messages are spooled to disk
// during DATA (connection.ini [main] spool_after / spool_dir) and the number and
// bytes of DATA transfers in flight per process are bounded (gateway-data-budget),
// so a burst of big messages cannot push the inbound instance's memory up by the
// sum of their sizes. Everything is real: Haraka processes, SMTP, the internal sink.

import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import type net from 'node:net'
import path from 'node:path'

import { dkimVerify } from 'mailauth/lib/dkim/verify'
import { describe, expect, it, vi } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import type { SmtpReply } from '../../lib/smtp/client'
import { eicar, TestClamd } from '../helpers/clamd'
import { mailDate } from '../helpers/content-mail'
import { addUser, delivered, gatewayWithSink, outboundWithPartnerMx } from '../helpers/fixtures'
import { sendMail, shippedInboundPlugins, testMessage, type TestGateway } from '../helpers/gateway'
import type { MailSink } from '../helpers/mail-sink'
import { addressBlock } from '../helpers/net'
import { fieldValues, outboundPlugins, relaySession } from '../helpers/outbound-relay'
import { RssSampler, treeRss } from '../helpers/process-memory'

const MiB = 1024 * 1024

/**
 * The ceiling for the inbound instance (all its Haraka processes, summed RSS from
 * /proc) while 20 messages of 20 MB arrive at once. Measured with this test on the
 * shared 2-core test machine (Node 20, idle instance ~110-120 MB):
 * - before (no spooling, no budget): peak 623 MB and still rising when the clients
 *   gave up after 30 s without an answer (gateway-content's data_post timed out, 451 4.3.0);
 * - spooling alone (spool_after 256 KiB, no budget): 477 MB, answers still over 30 s;
 * - spooling and the shipped budget (max_inflight_bytes 128 MiB: 6 messages taken,
 *   14 answered 451 4.3.2 at DATA): 227-228 MB, the whole burst done in ~22 s.
 * 350 MB leaves room for GC timing and a busy machine while staying far below what
 * the burst cost before.
 */
const RSS_CEILING = 350 * MiB
const MESSAGES = 20
const MESSAGE_BYTES = 20 * MiB

/** 76-character base64 lines (no line starts with a dot: no dot-stuffing needed), about `size` bytes in all. */
function base64Body(size: number): Buffer {
  const line = 78 // 76 + CRLF
  const lines = Math.ceil(size / line)
  const b64 = crypto.randomBytes(Math.ceil((lines * 76 * 3) / 4)).toString('base64')
  const out = Buffer.alloc(lines * line)
  for (let i = 0; i < lines; i++) {
    out.write(b64.slice(i * 76, i * 76 + 76), i * line, 'latin1')
    out.write('\r\n', i * line + 76, 'latin1')
  }
  return out
}

/** One message: a unique header (marker) above the shared attachment body. */
function bigMessage(body: Buffer, to: string): { bytes: Buffer; marker: string } {
  const marker = `memory-${Date.now()}-${crypto.randomBytes(6).toString('hex')}`
  const header = [
    'From: <sender@sender.test>',
    `To: <${to}>`,
    `Subject: large ${marker}`,
    `Message-ID: <${marker}@sender.test>`,
    `Date: ${mailDate()}`,
    'MIME-Version: 1.0',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="data.bin"',
    '',
    '',
  ].join('\r\n')
  return { bytes: Buffer.concat([Buffer.from(header, 'latin1'), body]), marker }
}

interface Outcome {
  marker: string
  bytes: Buffer
  /** The reply that decided the message: the end of DATA, or the refusal before it. */
  reply: SmtpReply
}

/** One session: EHLO, MAIL (with SIZE), RCPT, DATA, the raw message, the dot. */
async function send(gw: TestGateway, m: { bytes: Buffer; marker: string }, to: string): Promise<Outcome> {
  const { client } = await gw.connect('inbound')
  try {
    await client.ehlo('mx.sender.test')
    const mail = await client.send(`MAIL FROM:<sender@sender.test> SIZE=${m.bytes.length}`)
    if (mail.code !== 250) return { ...m, reply: mail }
    const rcpt = await client.send(`RCPT TO:<${to}>`)
    if (rcpt.code !== 250) return { ...m, reply: rcpt }
    const data = await client.send('DATA')
    if (data.code !== 354) return { ...m, reply: data }
    client.write(m.bytes)
    client.write('.\r\n')
    return { ...m, reply: await client.read() }
  } finally {
    await client.quit()
  }
}

/** DATA started, part of the message written, then the connection dropped. */
async function abortMidData(gw: TestGateway, body: Buffer, to: string): Promise<void> {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  expect((await client.send('MAIL FROM:<sender@sender.test>')).code).toBe(250)
  expect((await client.send(`RCPT TO:<${to}>`)).code).toBe(250)
  expect((await client.send('DATA')).code).toBe(354)
  // the whole part reaches Haraka (a spool file is open), then the client is gone
  const socket = (client as unknown as { socket: net.Socket }).socket
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve())
    socket.end(body)
  })
}

function deliveredBytes(sink: MailSink, marker: string): Buffer | undefined {
  return sink.messages.find((m) => m.bytes.includes(`Message-ID: <${marker}@sender.test>`))?.bytes
}

/** Number of "[core] disconnect" lines in an instance's log: sessions Haraka has finished with. */
function disconnects(gw: TestGateway): number {
  return gw.log('inbound').split('[core] disconnect ').length - 1
}

/** Lines of `width` letters up to about `size` bytes: a large plain-text body (more than spool_after). */
function textBody(size: number, width = 76): string {
  const line = `${'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(width / 26)).slice(0, width)}\r\n`
  return line.repeat(Math.ceil(size / line.length))
}

describe('inbound: 20 concurrent 20 MB messages (shipped configuration, scanners off)', () => {
  const { gw, sink } = gatewayWithSink()
  const spool = () => path.join(gw.root, 'var', 'spool', 'inbound')

  it('does not leak the DATA budget: after max_concurrent_data + 1 transfers dropped mid-DATA, a new message is accepted', async () => {
    // max_concurrent_data=20 (shipped): 21 leaked transfers would leave every DATA answered 451
    const before = disconnects(gw)
    const partial = base64Body(300 * 1024) // past spool_after: a spool file is open when the client vanishes
    for (let i = 0; i < 21; i++) await abortMidData(gw, partial, 'bob@example.com')
    await vi.waitFor(() => expect(disconnects(gw) - before).toBeGreaterThanOrEqual(21), { timeout: 20_000, interval: 100 })
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const { text, marker } = testMessage({ from: 'sender@sender.test', to: 'bob@example.com' })
    const r = await sendMail(client, { from: 'sender@sender.test', to: ['bob@example.com'] }, text)
    await client.quit()
    expect([r.data?.code, r.end?.code, r.end?.enhanced]).toEqual([354, 250, '2.0.0'])
    await delivered(sink, marker)
    // the abandoned spool files are removed with their transactions
    await vi.waitFor(() => expect(fs.readdirSync(spool())).toEqual([]), { timeout: 10_000, interval: 100 })
  })

  it(`keeps the instance under ${RSS_CEILING / MiB} MB; every message is delivered byte-exact or answered 451 4.3.2`, async () => {
    const body = base64Body(MESSAGE_BYTES)
    const messages = Array.from({ length: MESSAGES }, () => bigMessage(body, 'bob@example.com'))
    const pid = gw.pid('inbound')
    const idle = treeRss(pid)
    const sampler = new RssSampler(pid)
    let spooled = 0 // most spool files seen at once: the messages really went to disk
    const watch = setInterval(() => (spooled = Math.max(spooled, fs.readdirSync(spool()).length)), 50)
    let outcomes: Outcome[] = []
    try {
      outcomes = await Promise.all(messages.map((m) => send(gw, m, 'bob@example.com')))
      const accepted = outcomes.filter((o) => o.reply.code === 250)
      await sink.waitFor(accepted.length + 1, 50_000) // + the message of the test before
      await gw.waitForEmptyQueue('inbound', 20_000)
    } finally {
      sampler.stop()
      clearInterval(watch)
    }
    console.log(`inbound RSS: idle ${(idle / MiB).toFixed(0)} MB, peak ${(sampler.peak / MiB).toFixed(0)} MB; replies ${outcomes.map((o) => o.reply.code).join(',')}`)

    for (const o of outcomes) {
      if (o.reply.code === 250) {
        // the gateway only adds header lines above the message: the sender's bytes arrive unchanged at its end
        const got = deliveredBytes(sink, o.marker)
        expect(got, o.marker).toBeDefined()
        expect(got!.subarray(got!.length - o.bytes.length).equals(o.bytes), `${o.marker} delivered byte-exact`).toBe(true)
      } else {
        // busy, never a 5xx: the sender keeps the message and retries
        expect([o.reply.code, o.reply.enhanced, o.reply.text]).toEqual([451, '4.3.2', '4.3.2 System busy, try again later'])
      }
    }
    expect(outcomes.filter((o) => o.reply.code === 250).length).toBeGreaterThan(0)
    expect(spooled).toBeGreaterThan(0)
    expect(sampler.peak).toBeLessThan(RSS_CEILING)
    expect(gw.log('inbound')).toMatch(/decision check=data-budget result=(concurrent_data|inflight_bytes) action=tempfail/)
    sink.messages.splice(0) // 400 MB the test process need not keep
  }, 120_000)

  it('spools into the instance folder under var/, owner-only, and leaves nothing behind', () => {
    expect(fs.statSync(spool()).mode & 0o777).toBe(0o700)
    expect(fs.readdirSync(spool())).toEqual([])
  })
})

describe('inbound: a spooled message through content inspection and the virus scan', () => {
  const block = addressBlock()
  const clamd = new TestClamd({ host: block.ip(4), port: 3310, streamMaxLength: '8M' })
  const plugins = shippedInboundPlugins({ withScanners: true })
    .split('\n')
    .filter((l) => l.trim() !== 'gateway-spam') // rspamd is not what this is about
    .join('\n')
  const { gw, sink } = gatewayWithSink({
    block,
    files: { 'inbound/config/plugins': plugins, 'inbound/config/gateway-antivirus.ini': `[main]\nserver=${clamd.address}\n` },
    services: [{ start: () => clamd.start(), stop: () => clamd.dispose() }],
  })

  it('finds EICAR that only the spool file holds (past spool_after) and delivers a clean large message byte-exact', async () => {
    const big = textBody(1024 * 1024) // 4 x spool_after
    const infected = testMessage({ from: 'sender@sender.test', to: 'bob@example.com', body: `${big}${eicar().toString('latin1')}\r\n` })
    const clean = testMessage({ from: 'sender@sender.test', to: 'bob@example.com', body: big })
    for (const [m, expected] of [
      [infected, [554, '5.7.1']],
      [clean, [250, '2.0.0']],
    ] as const) {
      const { client } = await gw.connect('inbound')
      await client.ehlo('mx.sender.test')
      const r = await sendMail(client, { from: 'sender@sender.test', to: ['bob@example.com'] }, m.text)
      await client.quit()
      expect([r.end?.code, r.end?.enhanced], m.marker).toEqual(expected)
    }
    const got = await delivered(sink, clean.marker)
    expect(got.raw.endsWith(clean.text)).toBe(true)
    expect(sink.messages.some((x) => x.raw.includes(infected.marker))).toBe(false)
    expect(gw.log('inbound')).toMatch(/\[gateway-antivirus\].*Gateway\.Test\.EICAR\.UNOFFICIAL/)
  })
})

describe('outbound: a spooled message is DKIM-signed and verifies', () => {
  const PASSWORD = 'correct horse battery'
  let record = ''
  const { remoteMx, gw } = outboundWithPartnerMx({
    files: {
      'outbound/config/plugins': outboundPlugins({ scrub: true, dkim: true, nodelay: true }),
      'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
    },
    prepare: ({ gw }) => {
      fs.rmSync(path.join(gw.root, 'outbound', 'config', 'dkim'), { recursive: true, force: true })
      const r = spawnSync(process.execPath, ['-e', "require('./dist/cli/dkim.js').dkimCommand(process.argv.slice(1)).then((c) => process.exit(c))", 'keygen', 'example.com', '--selector', 'big'], {
        cwd: GATEWAY_ROOT,
        env: { ...process.env, GATEWAY_ROOT: gw.root },
        encoding: 'utf8',
      })
      if (r.status !== 0) throw new Error(`gateway dkim keygen failed: ${r.stderr}`)
      record = [...r.stdout.matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('')
      addUser(gw, 'app@example.com', PASSWORD)
    },
  })

  it('signs a 1 MB message (spooled during DATA) so that an independent verifier says pass', async () => {
    const client = await relaySession(gw, 'app@example.com', PASSWORD)
    const { text, marker } = testMessage({ from: 'app@example.com', to: 'someone@partner.test', body: textBody(1024 * 1024) })
    const r = await sendMail(client, { from: 'app@example.com', to: ['someone@partner.test'] }, text)
    await client.quit()
    expect([r.end?.code, r.end?.enhanced]).toEqual([250, '2.0.0'])
    const atMx = await delivered(remoteMx, marker, 30_000)
    expect(fieldValues(atMx.raw, 'DKIM-Signature')).toHaveLength(1)
    expect(atMx.raw.endsWith(text.split('\r\n\r\n').slice(1).join('\r\n\r\n'))).toBe(true)
    const verified = await dkimVerify(atMx.bytes, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === 'big._domainkey.example.com') return [[record]]
        throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' })
      },
    })
    expect(verified.results.map((x) => x.status.result)).toEqual(['pass'])
  })
})
