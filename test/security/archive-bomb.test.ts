// Archive bombs over real SMTP through the inbound instance (gateway-content,
// lib/content/archive-bomb.ts): a 1 MB ZIP holding 1 GiB of zeros, ZIPs nested to
// hold 4 GiB, and an entry that lies about its size are quarantined (default
// bomb_action) or refused with 554 5.7.1 (bomb_action=reject), while a
// compressible but ordinary attachment (a 2 MB server log, ~10:1) is delivered
// unchanged. The bombs are built at run time (test/helpers/zip-bomb.ts). The
// gateway's own work stays bounded: every message is decided, and the inbound
// process's peak memory stays far below what inflating a bomb would take.

import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

import { describe, expect, it } from 'vitest'

import { QuarantineStore } from '../../lib/quarantine/store'
import { mimeMessage, type Attachment } from '../helpers/content-mail'
import { delivered, gatewayWithSink } from '../helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from '../helpers/gateway'
import { deflatedZeros, zerosZip } from '../helpers/zip-bomb'
import { zip } from '../helpers/zip-writer'

const FROM = 'alice@sender.test'
const TO = 'bob@example.com'
const MIB = 1024 * 1024

// The shipped inbound pipeline (without the virus and spam engines, which this test does not run)
// and the shipped connection.ini: messages over its spool_after are spooled to disk while received.
const {
  sink: internal,
  gw, // shipped gateway-content.ini: bomb_action=quarantine
  variants: { rejectGw },
} = gatewayWithSink({
  variants: { rejectGw: { files: { 'inbound/config/gateway-content.ini': '[archives]\nbomb_action=reject\n' } } },
})

async function send(g: TestGateway, text: string) {
  const { client } = await g.connect('inbound')
  await client.ehlo('mx.sender.test')
  const r = await sendMail(client, { from: FROM, to: [TO] }, text)
  await client.quit()
  return r
}

const withZip = (filename: string, data: Buffer) => mimeMessage({ from: FROM, to: TO, attachments: [{ filename, contentType: 'application/zip', data } satisfies Attachment] })

const quarantined = (g: TestGateway) => new QuarantineStore(path.join(g.root, 'inbound', 'quarantine')).list()

/** Peak resident memory of the inbound Haraka process so far (Linux VmHWM), in bytes. */
function peakRss(g: TestGateway): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${g.pid('inbound')}/status`, 'utf8'))
  if (!m) throw new Error('no VmHWM in /proc/<pid>/status')
  return Number(m[1]) * 1024
}

/** `markers` were not delivered: a probe sent afterwards arrives, and none of them did. */
async function expectNotDelivered(g: TestGateway, ...markers: string[]): Promise<void> {
  const probe = testMessage({ from: FROM, to: TO })
  expect((await send(g, probe.text)).end?.code).toBe(250)
  await delivered(internal, probe.marker)
  await g.waitForEmptyQueue('inbound')
  for (const marker of markers) expect(internal.messages.some((m) => m.raw.includes(marker))).toBe(false)
}

describe('archive bombs through the inbound instance', () => {
  it('quarantines a 1 MB ZIP holding 1 GiB, and one that lies about its size, with bounded memory', async () => {
    const oneGib = withZip('report.zip', zerosZip('report.txt', 1024))
    expect(oneGib.text.length).toBeLessThan(1.5 * MIB)
    // 1 GiB declared as 2 MiB: its sizes look ordinary (2:1), only inflating shows the lie
    const liar = withZip('logs.zip', zip([{ name: 'app.log', data: '', deflated: deflatedZeros(1024), declaredSize: 2 * MIB }]))

    for (const m of [oneGib, liar]) {
      const r = await send(gw, m.text)
      expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    }
    expect(quarantined(gw).filter((q) => q.messageId.includes(oneGib.marker) || q.messageId.includes(liar.marker)).map((q) => [q.subject, q.check, q.result])).toEqual([
      ['test', 'archive-bomb', 'archive_bomb'],
      ['test', 'archive-bomb', 'archive_bomb'],
    ])
    await gw.waitForLog('inbound', /archive-bomb[^\n]*report\.zip > report\.txt: declares 1073741824 bytes/)
    await gw.waitForLog('inbound', /archive-bomb[^\n]*logs\.zip > app\.log: declares 2097152 bytes but inflates to more/)
    await expectNotDelivered(gw, oneGib.marker, liar.marker)
    // inflating either bomb would have taken 1 GiB; Haraka with the message itself needs far less
    expect(peakRss(gw)).toBeLessThan(400 * MIB)
  })

  it('with bomb_action=reject refuses nested ZIPs holding 4 GiB with 554 5.7.1', async () => {
    const inner = zerosZip('zeros.bin', 1024)
    const nested = withZip('backup.zip', zip([1, 2, 3, 4].map((n) => ({ name: `disk${n}.zip`, data: inner }))))
    expect(nested.text.length).toBeLessThan(1.5 * MIB)
    const r = await send(rejectGw, nested.text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([554, '5.7.1', '5.7.1 Message contains an attachment that expands too much'])
    expect(quarantined(rejectGw)).toEqual([])
    await expectNotDelivered(rejectGw, nested.marker)
    expect(peakRss(rejectGw)).toBeLessThan(400 * MIB)
  })

  it('delivers a ZIP of a 2 MB server log (about 10:1) unchanged and unmarked', async () => {
    const lines: string[] = []
    for (let i = 0, size = 0; size < 2 * MIB; i++) {
      const line = `2026-12-02T12:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}Z web-${i % 7} app[${1000 + (i % 97)}]: GET /api/items/${(i * 7919) % 100_000} 200 ${(i * 31) % 900} ms\n`
      lines.push(line)
      size += line.length
    }
    const log = Buffer.from(lines.join(''))
    const ratio = log.length / zlib.deflateRawSync(log).length
    expect(ratio).toBeGreaterThan(5)
    expect(ratio).toBeLessThan(100)
    const m = withZip('server-logs.zip', zip([{ name: 'server.log', data: log }]))
    expect((await send(gw, m.text)).end!.code).toBe(250)
    const raw = (await delivered(internal, m.marker)).raw
    const body = m.text.slice(m.text.indexOf('\r\n\r\n'))
    expect(raw.includes(body)).toBe(true) // the attachment byte for byte
    expect(raw.split('\r\n\r\n')[0]).not.toMatch(/^X-Gateway-Checks:/im)
  })
})
