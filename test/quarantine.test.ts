// Quarantine and tag actions end to end, and the administrator's
// `gateway quarantine` command acting on a real quarantine. The recipient check
// (configured to quarantine or tag unknown recipients) is the trigger here.

import { execFile } from 'node:child_process'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'

/** Runs the CLI without blocking this process (the MailSink the release talks to lives here). */
function cli(gw: TestGateway, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), 'quarantine', ...args], { env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root } }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

async function send(gw: TestGateway, to: string, subject: string): Promise<string> {
  const { client } = await gw.connect('inbound')
  await client.ehlo()
  const { text, marker } = testMessage({ from: 'x@sender.test', to, subject })
  // a body line starting with "." must survive quarantine and release unchanged (dot-stuffing)
  const r = await sendMail(client, { from: 'x@sender.test', to: [to] }, text.replace(`Body ${marker}`, `.leading dot\r\nBody ${marker}`))
  await client.quit()
  expect([r.rcpts[0]!.code, r.end!.code]).toEqual([250, 250])
  return marker
}

describe('quarantine', () => {
  const { gw, sink } = gatewayWithSink({
    files: { 'inbound/config/valid_recipients': 'alice@example.com\n', 'inbound/config/gateway-recipients.ini': '[main]\naction=quarantine\n' },
  })

  it('answers 250 like any message, delivers nothing, and the CLI lists, shows, releases and deletes', async () => {
    const first = await send(gw, 'mallory@example.com', 'first held')
    const second = await send(gw, 'trudy@example.com', 'second held')
    await gw.waitForLog('inbound', /quarantined as [^]*quarantined as /)
    expect(sink.messages.filter((m) => m.raw.includes(first) || m.raw.includes(second))).toEqual([])

    const list = await cli(gw, 'list')
    expect(list.status, list.stderr).toBe(0)
    const rows = list.stdout.trim().split('\n').slice(1).map((l) => l.split('\t'))
    expect(rows.map((r) => [r[2], r[3], r[4], r[5], r[7]])).toEqual([
      ['recipient', 'unknown', 'x@sender.test', 'mallory@example.com', 'first held'],
      ['recipient', 'unknown', 'x@sender.test', 'trudy@example.com', 'second held'],
    ])
    const [firstId, secondId] = rows.map((r) => r[0]!)

    const show = await cli(gw, 'show', firstId!)
    expect(show.status).toBe(0)
    expect(show.stdout).toContain(`Body ${first}`)
    expect(show.stdout).toMatch(/X-Gateway-Checks: recipient=unknown \(quarantine\)/)

    const released = await cli(gw, 'release', firstId!)
    expect(released.status, released.stderr).toBe(0)
    expect(released.stdout.trim()).toBe(`released ${firstId} to ${sink.address}`)
    const delivered = (await sink.waitFor(1)).find((m) => m.raw.includes(first))!
    expect(delivered.to).toEqual(['mallory@example.com'])
    expect(delivered.from).toBe('x@sender.test')
    expect(delivered.raw).toMatch(/^X-Gateway-Released: .* \(was recipient: unknown\)\r$/m)
    expect(delivered.raw).toContain(`\r\n.leading dot\r\nBody ${first}`)

    expect((await cli(gw, 'delete', secondId!)).status).toBe(0)
    expect((await cli(gw, 'list')).stdout.trim().split('\n')).toHaveLength(1) // header only
    expect((await cli(gw, 'show', '../../etc/passwd')).status).toBe(1)
  })
})

describe('tag', () => {
  const { gw, sink } = gatewayWithSink({
    files: { 'inbound/config/valid_recipients': 'alice@example.com\n', 'inbound/config/gateway-recipients.ini': '[main]\naction=tag\n' },
  })

  it('delivers with X-Gateway-Tag, the decision and the configured subject prefix', async () => {
    const marker = await send(gw, 'mallory@example.com', 'hello')
    const msg = (await sink.waitFor(1)).find((m) => m.raw.includes(marker))!
    expect(msg.raw).toMatch(/^X-Gateway-Tag: recipient: unknown\r$/m)
    expect(msg.raw).toMatch(/^X-Gateway-Checks: recipient=unknown \(tag\)\r$/m)
    expect(msg.raw).toMatch(/^Subject: \[SUSPECT\] hello\r$/m)
    expect(msg.raw.match(/^Subject:/gm)).toHaveLength(1)
  })
})
