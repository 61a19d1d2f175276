// `gateway report` and /metrics for refusals by each check of the shipped inbound
// pipeline, with the real scanners: rspamd refuses GTUBE (spam), clamd refuses
// EICAR (virus), the attachment policy refuses a Windows program (content), and a
// domain publishing DMARC p=reject refuses a forged From (DMARC). A clean message
// goes through. (Checks that "also" caught a message: test/report.test.ts.)
// Each check's counter, its filter-ROI line, the spam bands, the virus count and
// the Prometheus series must show exactly this traffic.

import { expect, it } from 'vitest'

import { eicar, TestClamd } from './helpers/clamd'
import { fakeWindowsProgram, mimeMessage, type Attachment } from './helpers/content-mail'
import { FixtureDns } from './helpers/dns-server'
import { delivered, gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import { metricsAddresses, scrape, valueOf } from './helpers/metrics'
import { addressBlock } from './helpers/net'
import { waitForReport } from './helpers/report-cli'
import { TestRspamd } from './helpers/rspamd'

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
const NODE = 'checks-node'
const ARGS = ['--since', '1h', '--node', NODE]

const block = addressBlock()
const clamd = new TestClamd({ host: block.ip(4), port: 3310 })
const rspamd = new TestRspamd({ host: block.ip(5), port: 11333 })
const dns = new FixtureDns(block.ip(53), 5353)
  .add('_dmarc.forged.test', { type: 'TXT', data: 'v=DMARC1; p=reject' })

const { gw, sink } = gatewayWithSink({
  block,
  dns,
  instances: ['inbound'],
  withScanners: true, // the shipped inbound plugin list, scanners included
  env: { GATEWAY_NODE_NAME: NODE },
  files: {
    'inbound/config/gateway-antivirus.ini': `[main]\nserver=${clamd.address}\naction=reject\n`,
    'inbound/config/gateway-spam.ini': `[main]\nserver=${rspamd.address}\n[scl]\nreject=9\nquarantine=7\ntag=5\n`,
  },
  services: [
    { start: () => clamd.start(), stop: () => clamd.dispose() },
    { start: () => rspamd.start(), stop: () => rspamd.destroy() },
  ],
  startTimeoutMs: 180_000, // a cold rspamd start
})

/** One inbound session; the end-of-data reply. */
async function send(gw: TestGateway, m: { from: string; text: string }): Promise<{ code: number; enhanced: string }> {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  const r = await sendMail(client, { from: m.from, to: ['bob@example.com'] }, m.text)
  await client.quit()
  const end = r.end ?? r.rcpts[0]!
  return { code: end.code, enhanced: /^\d\.\d+\.\d+/.exec(end.text)?.[0] ?? '' }
}

const withAttachment = (a: Attachment) => mimeMessage({ from: 'alice@sender.test', to: 'bob@example.com', attachments: [a] })

it('counts a refusal by each check (spam, virus, content, DMARC) exactly, in the report and on /metrics', async () => {
  const clean = testMessage({ from: 'alice@sender.test', to: 'bob@example.com' })
  expect(await send(gw, { from: 'alice@sender.test', text: clean.text })).toEqual({ code: 250, enhanced: '2.0.0' })
  await delivered(sink, clean.marker)

  const spam = testMessage({ from: 'alice@sender.test', to: 'bob@example.com', body: `Hello\r\n${GTUBE}\r\n` })
  expect(await send(gw, { from: 'alice@sender.test', text: spam.text })).toEqual({ code: 550, enhanced: '5.7.1' })
  const virus = withAttachment({ filename: 'note.txt', contentType: 'text/plain', data: eicar() })
  expect(await send(gw, { from: 'alice@sender.test', text: virus.text })).toEqual({ code: 554, enhanced: '5.7.1' })
  const program = withAttachment({ filename: 'invoice.exe', contentType: 'application/octet-stream', data: fakeWindowsProgram() })
  expect(await send(gw, { from: 'alice@sender.test', text: program.text })).toEqual({ code: 554, enhanced: '5.7.1' })
  const forged = testMessage({ from: 'ceo@forged.test', to: 'bob@example.com' })
  expect(await send(gw, { from: 'ceo@forged.test', text: forged.text })).toEqual({ code: 550, enhanced: '5.7.1' })

  const r = await waitForReport(gw, ARGS, (x) => x.messages.in === 1 && (x.totals.inbound.messages_rejected ?? 0) === 4)
  expect(r.totals.inbound).toMatchObject({ messages_accepted: 1, messages_rejected: 4, 'check:spam:reject': 1, 'check:virus:reject': 1, 'check:attachment:reject': 1, 'check:dmarc:reject': 1 })
  // what each filter caught first, alone, or as well as another
  const filter = (check: string) => r.filters.find((x) => x.instance === 'inbound' && x.check === check)
  expect(filter('spam')).toEqual({ instance: 'inbound', check: 'spam', first: 1, only: 1, also: 0 })
  expect(filter('virus')).toEqual({ instance: 'inbound', check: 'virus', first: 1, only: 1, also: 0 })
  expect(filter('attachment')).toEqual({ instance: 'inbound', check: 'attachment', first: 1, only: 1, also: 0 })
  expect(filter('dmarc')).toEqual({ instance: 'inbound', check: 'dmarc', first: 1, only: 1, also: 0 })
  expect(r.filters.filter((x) => x.instance === 'inbound')).toHaveLength(4)
  expect(r.unattributed.inbound).toBe(0)
  // scanned by rspamd: the clean message and GTUBE (the others were refused before the spam check)
  expect(r.spam.scanned).toBe(2)
  expect(r.spam.bands['7-9']).toBe(1)
  expect(r.spam.spam).toBe(1)
  expect(r.viruses).toBe(1)
  const reasons = r.reject_reasons.filter((x) => x.instance === 'inbound').map((x) => `${x.check}:${x.action}:${x.count}`).sort()
  expect(reasons).toEqual(['attachment:reject:1', 'dmarc:reject:1', 'spam:reject:1', 'virus:reject:1'])

  // the same numbers on the instance's Prometheus endpoint (kept in memory: exact since start)
  const { body } = await scrape(metricsAddresses(block).inbound)
  for (const check of ['spam', 'virus', 'attachment', 'dmarc']) {
    expect(valueOf(body, 'gateway_check_decisions_total', { check, action: 'reject' }), check).toBe(1)
    expect(valueOf(body, 'gateway_filter_roi_total', { kind: 'first', check }), check).toBe(1)
  }
  expect(valueOf(body, 'gateway_viruses_total')).toBe(1)
  expect(valueOf(body, 'gateway_spam_scl_messages_total', { band: '7-9' })).toBe(1)
  expect(valueOf(body, 'gateway_messages_total', { result: 'rejected' })).toBe(4)
}, 120_000)
