// Quarantine and tag actions end to end, and the administrator's
// `gateway quarantine` command acting on a real quarantine. The recipient check
// (configured to quarantine or tag unknown recipients) is the trigger here.
// A release goes through the running inbound instance's own delivery queue: it
// survives an internal server that is down, and reaches it byte for byte.

import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { ReleaseRequests, releaseRequestDir } from '../lib/quarantine/release-requests'
import { QuarantineStore } from '../lib/quarantine/store'
import { listQueue } from '../lib/queue/qfile'
import { gatewayWithSink } from './helpers/fixtures'
import { mailDate } from './helpers/content-mail'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import type { MailSink, ReceivedMessage } from './helpers/mail-sink'

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs `gateway ARGS` without blocking this process (the MailSink the instance delivers to lives here). */
function gateway(gw: TestGateway, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), ...args], { env: { ...gw.env('inbound'), GATEWAY_ROOT: gw.root } }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}
const cli = (gw: TestGateway, ...args: string[]) => gateway(gw, 'quarantine', ...args)

/** The quarantine listing as rows of columns (header line dropped). */
async function quarantined(gw: TestGateway): Promise<string[][]> {
  const list = await cli(gw, 'list')
  expect(list.status, list.stderr).toBe(0)
  return list.stdout.trim().split('\n').slice(1).map((l) => l.split('\t'))
}

/** What is in the quarantine folder now (read directly: cheaper than the command when polling). */
const heldIds = (gw: TestGateway) => new QuarantineStore(path.join(gw.root, 'inbound', 'quarantine')).list().map((e) => e.id)

/** The id of the quarantined message whose subject is `subject`, once it is there. */
async function idOf(gw: TestGateway, subject: string): Promise<string> {
  const store = new QuarantineStore(path.join(gw.root, 'inbound', 'quarantine'))
  await expect.poll(() => store.list().some((e) => e.subject === subject)).toBe(true)
  return store.list().find((e) => e.subject === subject)!.id
}

/** The stored bytes of a quarantined message. */
function stored(gw: TestGateway, id: string): Buffer {
  return fs.readFileSync(path.join(gw.root, 'inbound', 'quarantine', `${id}.eml`))
}

/** Ids in the inbound delivery queue (read directly; the test of the command itself uses it once). */
const queuedIds = (gw: TestGateway) => listQueue(path.join(gw.root, 'inbound', 'queue')).map((m) => m.id)

/** `gateway queue list --instance inbound` rows. */
async function inboundQueue(gw: TestGateway): Promise<string[][]> {
  const r = await gateway(gw, 'queue', '--instance', 'inbound', 'list')
  expect(r.status, r.stderr).toBe(0)
  return r.stdout.trim().split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'))
}

/** A released message must arrive as the stored bytes plus one X-Gateway-Released line in front. */
function expectReleasedCopy(delivered: ReceivedMessage, original: Buffer, was: string): void {
  const first = delivered.raw.slice(0, delivered.raw.indexOf('\r\n') + 2)
  expect(first).toMatch(new RegExp(`^X-Gateway-Released: [A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} [\\d:]{8} GMT by \\S+ \\(was ${was}\\)\\r\\n$`))
  expect(Buffer.from(delivered.raw.slice(first.length), 'utf8').equals(original)).toBe(true)
}

const withMarker = (sink: MailSink, marker: string) => sink.messages.filter((m) => m.raw.includes(marker))

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

    const rows = await quarantined(gw)
    expect(rows.map((r) => [r[2], r[3], r[4], r[5], r[7]])).toEqual([
      ['recipient', 'unknown', 'x@sender.test', 'mallory@example.com', 'first held'],
      ['recipient', 'unknown', 'x@sender.test', 'trudy@example.com', 'second held'],
    ])
    const [firstId, secondId] = rows.map((r) => r[0]!)

    const show = await cli(gw, 'show', firstId!)
    expect(show.status).toBe(0)
    expect(show.stdout).toContain(`Body ${first}`)
    expect(show.stdout).toMatch(/X-Gateway-Checks: recipient=unknown \(quarantine\)/)

    const original = stored(gw, firstId!)
    const released = await cli(gw, 'release', firstId!)
    expect(released.status, released.stderr).toBe(0)
    expect(released.stdout.trim()).toMatch(new RegExp(`^released ${firstId}: (in the inbound delivery queue as \\w+|queued, and already out of the queue)`))
    await expect.poll(() => withMarker(sink, first).length, { timeout: 20_000 }).toBe(1)
    const delivered = withMarker(sink, first)[0]!
    expect(delivered.to).toEqual(['mallory@example.com'])
    expect(delivered.from).toBe('x@sender.test')
    expectReleasedCopy(delivered, original, 'recipient: unknown')
    expect(delivered.raw).toContain(`\r\n.leading dot\r\nBody ${first}`)
    expect(heldIds(gw)).toEqual([secondId])

    expect((await cli(gw, 'delete', secondId!)).status).toBe(0)
    expect(await quarantined(gw)).toEqual([])
    expect((await cli(gw, 'show', '../../etc/passwd')).status).toBe(1)
  })

  it('a release of an unknown id fails with one line, and changes nothing', async () => {
    const r = await cli(gw, 'release', 'nosuchmessage0')
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^gateway: no quarantined message nosuchmessage0 in \S+quarantine$/)])
  })

  it('a release while the internal server is down waits in the inbound queue and is delivered once when it is back', async () => {
    const marker = await send(gw, 'eve@example.com', 'held while down')
    const id = await idOf(gw, 'held while down')
    const original = stored(gw, id)
    await sink.stop()
    try {
      const r = await cli(gw, 'release', id)
      expect(r.status, r.stderr).toBe(0)
      const queueId = /in the inbound delivery queue as (\w+)/.exec(r.stdout)?.[1]
      expect(queueId, r.stdout).toBeDefined()
      expect(heldIds(gw)).toEqual([])
      // tried and failed: `gateway queue list` shows it with the error
      await expect.poll(() => fs.existsSync(path.join(gw.root, 'inbound', 'queue-control', 'last-error', `${queueId}.json`)), { timeout: 15_000 }).toBe(true)
      const row = (await inboundQueue(gw)).find((r) => r[0] === queueId)
      expect(row?.slice(6)).toEqual(['x@sender.test', 'eve@example.com'])
      expect(row?.[5]).not.toBe('')
    } finally {
      await sink.start()
    }
    expect((await gateway(gw, 'queue', '--instance', 'inbound', 'flush')).status).toBe(0)
    await expect.poll(() => withMarker(sink, marker).length, { timeout: 20_000 }).toBe(1)
    await expect.poll(() => queuedIds(gw), { timeout: 10_000 }).toEqual([])
    expect(withMarker(sink, marker)).toHaveLength(1)
    expectReleasedCopy(withMarker(sink, marker)[0]!, original, 'recipient: unknown')
  })

  it('releases a message whose envelope has UTF-8 local parts (SMTPUTF8), byte for byte', async () => {
    const { client } = await gw.connect('inbound')
    const { extensions } = await client.ehlo()
    expect(extensions).toContain('SMTPUTF8')
    const marker = `marker-${Date.now()}`
    const message = [`From: Jörg <jörg@sender.test>`, `To: <zoë@example.com>`, `Subject: Grüße`, `Message-ID: <${marker}@test.invalid>`, `Date: ${mailDate()}`, '', `Grüße ${marker}`, ''].join('\r\n')
    expect((await client.send('MAIL FROM:<jörg@sender.test> SMTPUTF8')).code).toBe(250)
    expect((await client.send('RCPT TO:<zoë@example.com>')).code).toBe(250)
    expect((await client.data(message)).end?.code).toBe(250)
    await client.quit()

    const id = await idOf(gw, 'Grüße')
    const original = stored(gw, id)
    expect((await quarantined(gw)).find((r) => r[0] === id)?.slice(4, 6)).toEqual(['jörg@sender.test', 'zoë@example.com'])
    const r = await cli(gw, 'release', id)
    expect(r.status, r.stderr).toBe(0)
    await expect.poll(() => withMarker(sink, marker).length, { timeout: 20_000 }).toBe(1)
    const delivered = withMarker(sink, marker)[0]!
    expect([delivered.from, delivered.to]).toEqual(['jörg@sender.test', ['zoë@example.com']])
    expectReleasedCopy(delivered, original, 'recipient: unknown')
  })

  it('two concurrent releases of one message deliver it once; the other is told it is gone', async () => {
    const marker = await send(gw, 'oscar@example.com', 'released twice')
    const id = await idOf(gw, 'released twice')
    const runs = await Promise.all([cli(gw, 'release', id), cli(gw, 'release', id)])
    expect(runs.map((r) => r.status).sort()).toEqual([0, 1])
    const loser = runs.find((r) => r.status === 1)!
    expect(loser.stderr.trim()).toMatch(new RegExp(`^gateway: no quarantined message ${id}`))

    // the same race inside the instance: two requests filed at the same moment
    const again = await send(gw, 'oscar@example.com', 'requested twice')
    const againId = await idOf(gw, 'requested twice')
    const requests = new ReleaseRequests(releaseRequestDir(path.join(gw.root, 'inbound')))
    const nonces = [requests.submit({ id: againId, by: 'a', at: new Date().toISOString() }), requests.submit({ id: againId, by: 'b', at: new Date().toISOString() })]
    const answers = await Promise.all(nonces.map((n) => requests.await(n, { takeMs: 10_000, answerMs: 30_000 })))
    expect(answers.map((w) => (w.kind === 'answered' ? (w.answer.ok ? 'queued' : w.answer.gone ? 'gone' : w.answer.error) : w.kind)).sort()).toEqual(['gone', 'queued'])

    for (const m of [marker, again]) await expect.poll(() => withMarker(sink, m).length, { timeout: 20_000 }).toBe(1)
    await expect.poll(() => queuedIds(gw), { timeout: 10_000 }).toEqual([])
    for (const m of [marker, again]) expect(withMarker(sink, m)).toHaveLength(1)
    expect(heldIds(gw)).toEqual([])
  })

  it('when the delivery queue cannot take the message it stays quarantined, and the command says why', async () => {
    const marker = await send(gw, 'trent@example.com', 'queue broken')
    const id = await idOf(gw, 'queue broken')
    const queue = path.join(gw.root, 'inbound', 'queue')
    expect(queuedIds(gw)).toEqual([])
    fs.renameSync(queue, `${queue}.away`)
    fs.writeFileSync(queue, 'a file where the queue folder belongs: every queue write fails')
    try {
      const r = await cli(gw, 'release', id)
      expect(r.status).toBe(75)
      expect(r.stderr.trim()).toMatch(new RegExp(`^gateway: release of ${id} failed: the delivery queue did not take it: .+; the message stays quarantined$`))
      expect(heldIds(gw)).toEqual([id])
    } finally {
      fs.rmSync(queue)
      fs.renameSync(`${queue}.away`, queue)
    }
    const r = await cli(gw, 'release', id)
    expect(r.status, r.stderr).toBe(0)
    await expect.poll(() => withMarker(sink, marker).length, { timeout: 20_000 }).toBe(1)
    expect(heldIds(gw)).toEqual([])
  })

  // last in this block: it leaves the inbound instance stopped
  it('without a running inbound instance nothing is released, and the command says so', async () => {
    await send(gw, 'peggy@example.com', 'held, instance stopped')
    const id = await idOf(gw, 'held, instance stopped')
    await gw.stopInstance('inbound')
    const r = await cli(gw, 'release', id)
    expect(r.status).toBe(69)
    expect(r.stderr.trim()).toMatch(/^gateway: the inbound instance is not running .*; the message stays quarantined$/)
    expect(heldIds(gw)).toEqual([id])
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
