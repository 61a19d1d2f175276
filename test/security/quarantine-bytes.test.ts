// The quarantine keeps what was received, byte for byte, also past Haraka's
// header limit: a message with a 1,500-line header (more than connection.ini
// [headers] max_lines = 1000; gateway-content quarantines it as archive_limits)
// is stored and, by `gateway quarantine release`, delivered to the internal
// server with all 1,500 lines. The only additions are the gateway's own fields
// (Received, Authentication-Results, X-Gateway-Org, X-Gateway-Checks), and on
// release one X-Gateway-Released line on top.

import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { QuarantineStore } from '../../lib/quarantine/store'
import { mailDate } from '../helpers/content-mail'
import { delivered, gatewayWithSink } from '../helpers/fixtures'
import { sendMail, type TestGateway } from '../helpers/gateway'

const FROM = 'alice@sender.test'
const TO = 'bob@example.com'
// the shipped inbound pipeline (without the virus and spam engines) and connection.ini: the message
// (over spool_after) is spooled to disk while it is received, and read back from there
const { gw, sink } = gatewayWithSink({})

/** `gateway quarantine ARGS`, without blocking this process (the sink the instance delivers to lives here). */
function quarantineCli(g: TestGateway, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'quarantine', ...args], { env: { ...g.env('inbound'), GATEWAY_ROOT: g.root } }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

/**
 * A message whose header has `lines` lines: the usual fields, then filler; a field
 * folded across line 1000 (the last one Haraka keeps) and one with UTF-8 past it.
 */
function longHeaderMessage(lines: number): { header: string; body: string; marker: string } {
  const marker = `qbytes-${process.pid}-${Date.now()}`
  const head = [`From: <${FROM}>`, `To: <${TO}>`, `Subject: long header ${marker}`, `Message-ID: <${marker}@test.invalid>`, `Date: ${mailDate()}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8']
  for (let i = head.length; i < lines; i++) {
    if (i === 999) head.push('X-Folded: starts on line 1000')
    else if (i === 1000) head.push('\tand goes on past the limit')
    else if (i === 1200) head.push('X-Unicode: café ünïcode past the limit')
    else head.push(`X-Filler-${String(i).padStart(4, '0')}: ${'v'.repeat(i % 40)} line ${i + 1}`)
  }
  // over connection.ini spool_after (256 KiB): Haraka keeps it on disk, and it is read back from there
  const padding = Array.from({ length: 4000 }, (_, i) => `line ${i} of a long body, long enough to be spooled to disk`).join('\r\n')
  return { header: head.map((l) => `${l}\r\n`).join(''), body: `\r\nBody ${marker}\r\n.leading dot\r\n${padding}\r\nlast line\r\n`, marker }
}

describe('quarantine keeps the received bytes', () => {
  it('stores and releases a message with a 1,500-line header byte for byte', async () => {
    const m = longHeaderMessage(1500)
    const sent = Buffer.from(m.header + m.body, 'utf8')
    expect(sent.length).toBeGreaterThan(256 * 1024)
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const r = await sendMail(client, { from: FROM, to: [TO] }, sent.toString('utf8'))
    await client.quit()
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])

    const store = new QuarantineStore(path.join(gw.root, 'inbound', 'quarantine'))
    const entry = store.list().find((e) => e.messageId.includes(m.marker))
    expect(entry).toMatchObject({ check: 'archive', result: 'archive_limits' })
    const stored = fs.readFileSync(path.join(store.dir, `${entry!.id}.eml`))

    // exactly what was sent, with the gateway's own fields around its header (wherever they are written:
    // today all on top): Received, Authentication-Results, X-Gateway-Org (org stamp), X-Gateway-Checks
    const start = stored.indexOf(`From: <${FROM}>\r\n`)
    const headerEnd = start + Buffer.byteLength(m.header)
    const bodyStart = stored.length - Buffer.byteLength(m.body)
    expect(stored.subarray(start, headerEnd).toString('utf8').split('\r\n')).toEqual(m.header.split('\r\n')) // readable when it fails
    expect(stored.subarray(start, headerEnd).equals(Buffer.from(m.header, 'utf8'))).toBe(true)
    expect(stored.subarray(bodyStart).equals(Buffer.from(m.body, 'utf8'))).toBe(true)
    const added = stored.subarray(0, start).toString('utf8') + stored.subarray(headerEnd, bodyStart).toString('utf8')
    const fields = added.match(/[^\r\n]+\r\n(?:[ \t][^\r\n]*\r\n)*/g) ?? []
    expect(fields.join('')).toBe(added)
    expect(fields.map((f) => f.split(':')[0]).sort()).toEqual(['Authentication-Results', 'Received', 'X-Gateway-Checks', 'X-Gateway-Org'])
    expect(fields).toContain('X-Gateway-Checks: archive=archive_limits (quarantine)\r\n')

    const released = await quarantineCli(gw, 'release', entry!.id)
    expect(released.status, released.stderr).toBe(0)
    const copy = await delivered(sink, m.marker)
    const first = copy.raw.slice(0, copy.raw.indexOf('\r\n') + 2)
    expect(first).toMatch(/^X-Gateway-Released: [^\r\n]+ \(was archive: archive_limits\)\r\n$/)
    expect(Buffer.from(copy.raw.slice(first.length), 'utf8').equals(stored)).toBe(true)
  })
})
