// SCRATCH (reviewer): full disk under the inbound queue. DELETE AFTER USE.
import fs from 'node:fs'
import { afterAll, expect, inject, it } from 'vitest'
import { sendMail, testMessage, TestGateway } from './helpers/gateway'
import { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'

const QDIR = process.env.SCRATCH_QDIR ?? '/tmp/fullq'
const block = addressBlock()
const sink = new MailSink({ host: block.ip(3), port: 2526 })
const gw = new TestGateway({ block, redisUrl: inject('redisUrl'), internalHosts: [sink.address], instances: ['inbound'],
  files: { 'inbound/config/queue_dir': `${QDIR}\n` } })
afterAll(async () => { await gw.stop(); await sink.stop() })

it('full disk: every 250 is delivered intact', async () => {
  for (const f of fs.readdirSync(QDIR)) fs.rmSync(`${QDIR}/${f}`, { force: true, recursive: true })
  await gw.start()
  const body = ('x'.repeat(76) + '\r\n').repeat(250) // ~19.5 KiB
  const ok: string[] = []
  const codes: Record<string, number> = {}
  const one = async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.sender.test')
    const { text, marker } = testMessage({ from: 'a@sender.test', to: 'bob@example.com', body: `${body}END-${'MARK'}\r\n` })
    const r = await sendMail(client, { from: 'a@sender.test', to: ['bob@example.com'] }, text)
    await client.quit().catch(() => {})
    const c = String(r.end?.code); codes[c] = (codes[c] ?? 0) + 1
    if (r.end?.code === 250) ok.push(marker)
    else if (!codes['t' + r.end?.text]) codes['t' + r.end?.text] = 1
  }
  for (let round = 0; round < 100; round++) await Promise.all(Array.from({ length: 12 }, one))
  console.log('codes', codes, 'queue files', fs.readdirSync(QDIR).map((f) => `${f}:${fs.statSync(`${QDIR}/${f}`).size}`).join(' '))
  await sink.start()
  gw.flushQueue('inbound')
  for (let i = 0; i < 6; i++) { await new Promise((r) => setTimeout(r, 5000)); gw.flushQueue('inbound') }
  console.log('left in queue', fs.readdirSync(QDIR).map((f) => `${f}:${fs.statSync(`${QDIR}/${f}`).size}`).join(' '))
  const got = sink.messages.map((m) => m.raw)
  const missing = ok.filter((m) => !got.some((raw) => raw.includes(m)))
  const truncated = got.filter((raw) => !raw.includes('END-MARK'))
  console.log('250s', ok.length, 'delivered', got.length, 'missing', missing.length, 'truncated', truncated.length)
  console.log(gw.log('inbound').split('\n').filter((l) => /Unable|ENOSPC|error|crit|Queue|failed|bad|invalid/i.test(l)).slice(0, 20).join('\n'))
  expect(missing).toEqual([])
  expect(truncated).toEqual([])
}, 120_000)
