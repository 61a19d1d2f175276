// gateway-spam over real SMTP with a real rspamd: GTUBE refused at the end of
// DATA, clean mail delivered with its SCL, a mid score tagged, a higher one
// quarantined, monitor mode acting on nothing, and rspamd down or silent
// handled by [main] on_error (tempfail, or accept marked "unscanned").

import path from 'node:path'

import { beforeAll, describe, expect, it } from 'vitest'

import { QuarantineStore } from '../lib/quarantine/store'
import { delivered as arrived, gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import type { ReceivedMessage } from './helpers/mail-sink'
import { addressBlock, SilentServer } from './helpers/net'
import { TestRspamd } from './helpers/rspamd'

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

// Deterministic mid scores, offline: a marker header worth a fixed score.
// With rspamd's reject threshold 15: 8.2 is SCL 6 (band 7.5-9), 10.5 is SCL 7 (9-12),
// both far enough from the band edges for the few tenths other rules add.
const TEST_RULES = `
GATEWAY_TEST_MID_SPAM {
  re = "X-Spam-Test-Level=/^mid$/H";
  score = 8.2;
  description = "test marker: mid score";
}
GATEWAY_TEST_HIGH_SPAM {
  re = "X-Spam-Test-Level=/^high$/H";
  score = 10.5;
  description = "test marker: high score";
}
`

// The shipped inbound pipeline, trimmed to what a spam test needs (no TLS),
// with gateway-spam where it belongs: after the envelope checks, before the spool.
const PLUGINS = ['gateway-core', 'gateway-stats', 'gateway-refuse-auth', 'gateway-accepted-domains', 'gateway-spam', 'gateway-spool', 'gateway-routing'].join('\n')

const block = addressBlock()
const rspamd = new TestRspamd({ host: block.ip(4), port: 11333, localD: { 'regexp.conf': TEST_RULES } })
// accepts connections and never answers: rspamd hanging
const silent = new SilentServer(block.ip(5), 11333)
const spamIni = (ini: string) => ({ 'inbound/config/gateway-spam.ini': ini })

const {
  sink,
  gw: monitor, // monitor=true
  variants: {
    enforce, // default thresholds, on_error=tempfail, subject prefix for tagged mail
    acceptOnError, // on_error=accept
    slow, // on_error=accept, rspamd that never answers
  },
  startRefused,
} = gatewayWithSink({
  block,
  files: { 'inbound/config/plugins': PLUGINS, ...spamIni(`[main]\nserver=${rspamd.address}\nmonitor=true\n`) },
  services: [{ start: () => rspamd.start(), stop: () => rspamd.destroy() }, silent],
  variants: {
    enforce: {
      files: { ...spamIni(`[main]\nserver=${rspamd.address}\non_error=tempfail\n[scl]\nreject=9\nquarantine=7\ntag=5\n`), 'inbound/config/gateway-spool.ini': '[tag]\nsubject_prefix=[SPAM]\n' },
    },
    acceptOnError: { files: spamIni(`[main]\nserver=${rspamd.address}\non_error=accept\n`) },
    slow: { files: spamIni(`[main]\nserver=${silent.address}\ntimeout_ms=1000\non_error=accept\n`) },
  },
  startTimeoutMs: 180_000, // a cold rspamd start
})

async function send(gw: TestGateway, opts: { subject?: string; body?: string; headers?: string[] } = {}) {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  const { text, marker } = testMessage({ from: 'alice@sender.test', to: 'bob@example.com', ...opts })
  const r = await sendMail(client, { from: 'alice@sender.test', to: ['bob@example.com'] }, text)
  await client.quit()
  return { end: r.end!, marker }
}

const delivered = (marker: string): Promise<ReceivedMessage> => arrived(sink, marker)

/** Proves a message was not delivered: a clean message sent after it through the same gateway arrives, and it did not. */
async function expectNotDelivered(gw: TestGateway, marker: string): Promise<void> {
  const probe = await send(gw, { body: 'Probe message, see you at lunch.' })
  expect(probe.end.code).toBe(250)
  await delivered(probe.marker)
  expect(sink.messages.some((m) => m.raw.includes(marker))).toBe(false)
}

/** All values of a header in the message's header block (unfolded). */
function headers(raw: string, name: string): string[] {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ')
  return head
    .split(/\r?\n/)
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim())
}

describe('gateway-spam: rspamd answering', () => {
  it('refuses GTUBE with 550 5.7.1 at the end of DATA and delivers nothing', async () => {
    const { end, marker } = await send(enforce, { body: `Hello,\r\n${GTUBE}\r\n` })
    expect([end.code, end.enhanced]).toEqual([550, '5.7.1'])
    expect(end.text).toBe('5.7.1 Message rejected as spam')
    await expectNotDelivered(enforce, marker)
  })

  it('delivers a clean message with its SCL and the spam decision recorded', async () => {
    const { end, marker } = await send(enforce, { subject: 'Lunch tomorrow', body: 'Hi Bob, lunch tomorrow at noon? Alice' })
    expect([end.code, end.enhanced]).toEqual([250, '2.0.0'])
    const msg = await delivered(marker)
    const [scl] = headers(msg.raw, 'X-Gateway-SCL')
    expect(Number(scl)).toBeLessThanOrEqual(2)
    expect(headers(msg.raw, 'X-Gateway-Checks').join(';')).toContain(`spam=scl_${scl} (accept)`)
    expect(headers(msg.raw, 'X-Gateway-Tag')).toEqual([])
    expect(headers(msg.raw, 'Subject')).toEqual(['Lunch tomorrow'])
  })

  it('tags a mid score (SCL 6 >= tag 5): X-Gateway-Tag and the subject prefix', async () => {
    const { end, marker } = await send(enforce, { subject: 'Offer', headers: ['X-Spam-Test-Level: mid'] })
    expect(end.code).toBe(250)
    const msg = await delivered(marker)
    expect(headers(msg.raw, 'X-Gateway-SCL')).toEqual(['6'])
    expect(headers(msg.raw, 'X-Gateway-Checks').join(';')).toContain('spam=scl_6 (tag)')
    expect(headers(msg.raw, 'X-Gateway-Tag')).toEqual(['spam: likely spam (SCL 6)'])
    expect(headers(msg.raw, 'Subject')).toEqual(['[SPAM] Offer'])
  })

  it('quarantines a high score (SCL 7 >= quarantine 7): 250 to the sender, held, not delivered', async () => {
    const { end, marker } = await send(enforce, { subject: 'Big offer', headers: ['X-Spam-Test-Level: high'] })
    expect([end.code, end.enhanced]).toEqual([250, '2.0.0'])
    const store = new QuarantineStore(path.join(enforce.root, 'inbound', 'quarantine'))
    const entry = store.list().find((e) => e.messageId.includes(marker))
    expect(entry).toMatchObject({ check: 'spam', result: 'scl_7', from: 'alice@sender.test', to: ['bob@example.com'] })
    const held = store.get(entry!.id)!.message.toString('utf8')
    expect(headers(held, 'X-Gateway-SCL')).toEqual(['7'])
    expect(headers(held, 'X-Gateway-Checks').join(';')).toContain('spam=scl_7 (quarantine)')
    await expectNotDelivered(enforce, marker)
  })

  it('monitor mode: GTUBE is delivered, the decision recorded as monitor', async () => {
    const { end, marker } = await send(monitor, { body: `Hello,\r\n${GTUBE}\r\n` })
    expect(end.code).toBe(250)
    const msg = await delivered(marker)
    expect(headers(msg.raw, 'X-Gateway-SCL')).toEqual(['9'])
    expect(headers(msg.raw, 'X-Gateway-Checks').join(';')).toContain('spam=scl_9 (monitor)')
    expect(headers(msg.raw, 'X-Gateway-Tag')).toEqual([])
  })

  it('replaces an X-Gateway-SCL header forged by the sender', async () => {
    const { end, marker } = await send(monitor, { body: `Hello,\r\n${GTUBE}\r\n`, headers: ['X-Gateway-SCL: 0'] })
    expect(end.code).toBe(250)
    expect(headers((await delivered(marker)).raw, 'X-Gateway-SCL')).toEqual(['9'])
  })

  it('rspamd silent past timeout_ms with on_error=accept: delivered, marked unscanned', async () => {
    const { end, marker } = await send(slow, { body: `Hello,\r\n${GTUBE}\r\n` })
    expect(end.code).toBe(250)
    const msg = await delivered(marker)
    expect(headers(msg.raw, 'X-Gateway-Spam')).toEqual(['unscanned'])
    expect(headers(msg.raw, 'X-Gateway-SCL')).toEqual([])
    expect(headers(msg.raw, 'X-Gateway-Checks').join(';')).toContain('spam=unscanned (accept)')
    expect(msg.raw).toContain(GTUBE) // the message itself arrives intact after the aborted scan
  })
})

describe('gateway-spam: rspamd stopped', () => {
  beforeAll(async () => {
    await rspamd.stop()
  })

  it('on_error=tempfail: 451 4.7.1 at the end of DATA with a generic text, nothing delivered', async () => {
    const { end, marker } = await send(enforce)
    expect([end.code, end.enhanced]).toEqual([451, '4.7.1'])
    expect(end.text).toBe('4.7.1 Temporary local problem, please try again later')
    // the probe would fail too while rspamd is down: check the sink directly after the 451
    expect(sink.messages.some((m) => m.raw.includes(marker))).toBe(false)
    expect(enforce.isRunning('inbound')).toBe(true)
  })

  it('on_error=accept: delivered with X-Gateway-Spam: unscanned and the decision recorded', async () => {
    const { end, marker } = await send(acceptOnError)
    expect(end.code).toBe(250)
    const msg = await delivered(marker)
    expect(headers(msg.raw, 'X-Gateway-Spam')).toEqual(['unscanned'])
    expect(headers(msg.raw, 'X-Gateway-Checks').join(';')).toContain('spam=unscanned (accept)')
  })
})

describe('gateway-spam: configuration', () => {
  it('refuses to start when the SCL thresholds do not rise, naming file and key', async () => {
    const r = await startRefused('inbound', { files: spamIni('[scl]\nreject=9\nquarantine=5\ntag=6\n') })
    expect(r.code).toBe(78)
    expect(r.stderr).toMatch(/gateway-spam\.ini: \[scl\] quarantine: 5 must be above tag \(6\)/)
  })

  it('refuses to run in the outbound instance', async () => {
    const r = await startRefused('outbound', { files: { 'outbound/config/plugins': 'gateway-core\ngateway-submission-auth\ngateway-spam\ngateway-spool\ngateway-routing\n' } })
    expect(r.code).toBe(78)
    expect(r.stderr).toMatch(/outbound\/config\/plugins:3: gateway-spam: runs in the inbound instance only: remove it from the outbound instance/)
  })
})
