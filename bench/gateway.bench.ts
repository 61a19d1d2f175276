// Throughput of the real inbound gateway: real Haraka process, real redis-server,
// real SMTP over loopback, a real SMTP server (MailSink) as the internal server.
// See bench/env.ts for how the environment is started and stopped.
//
// Every bench checks the replies it gets, so a failing gateway fails the run
// instead of producing fast numbers.

import { bench, describe, type BenchOptions } from 'vitest'

import { SmtpClient, type SmtpReply } from '../lib/smtp/client'
import { mimeMessage, samplePdf } from '../test/helpers/content-mail'
import { sendMail, testMessage } from '../test/helpers/gateway'
import { zip } from '../test/helpers/zip-writer'
import { quietBenchEnv, releaseBenchEnv, type BenchEnv } from './env'

const FROM = 'sender@sender.test'
const TO = 'bob@example.com'
/** Messages per session in the "one session" bench. */
const PER_SESSION = 10
/** End-to-end run: messages and concurrent senders. */
const E2E_MESSAGES = 200
const E2E_CONCURRENCY = 8

/** A message of about 4 KiB (headers + body), with a unique marker. */
function message4k(tag = ''): { text: string; marker: string } {
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempo'
  const body = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, '0')} ${line}`).join('\r\n')
  return testMessage({ from: FROM, to: TO, subject: `bench ${tag}`.trim(), body })
}

/**
 * A message of about 90 KiB as an office client sends it: text and HTML parts, a
 * 64 KiB PDF and a ZIP of documents (base64), so content inspection reads every
 * part, sniffs both attachments and lists the archive.
 */
function messageWithAttachments(): { text: string; marker: string } {
  const pdf = Buffer.concat([samplePdf(), Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919) % 251))])
  const docs = zip([{ name: 'report.pdf', data: pdf }, { name: 'notes.txt', data: 'minutes of the meeting\n'.repeat(200) }])
  return mimeMessage({
    from: FROM,
    to: TO,
    subject: 'bench attachments',
    html: '<p>Please find the documents attached.</p>',
    attachments: [
      { filename: 'report.pdf', contentType: 'application/pdf', data: pdf },
      { filename: 'documents.zip', contentType: 'application/zip', data: docs },
    ],
  })
}

function expectReply(what: string, r: SmtpReply | undefined, code: number, enhanced?: string): void {
  if (!r || r.code !== code || (enhanced !== undefined && r.enhanced !== enhanced)) {
    throw new Error(`${what}: expected ${code}${enhanced ? ` ${enhanced}` : ''}, got ${r ? `${r.code} ${r.text}` : 'no reply'}`)
  }
}

async function session(env: BenchEnv): Promise<SmtpClient> {
  const { client, greeting } = await env.gw.connect('inbound')
  expectReply('greeting', greeting, 220)
  expectReply('EHLO', (await client.ehlo('mx.sender.test')).reply, 250)
  return client
}

/** MAIL, RCPT, DATA of one ~4 KiB message on an open session; returns its marker. */
async function transaction(env: BenchEnv, client: SmtpClient, tag?: string): Promise<string> {
  const { text, marker } = message4k(tag)
  const r = await sendMail(client, { from: FROM, to: [TO] }, text)
  expectReply('MAIL', r.mail, 250)
  expectReply('RCPT', r.rcpts[0], 250)
  expectReply('end of DATA', r.end, 250)
  env.accepted++
  return marker
}

/**
 * Waits (1 ms polling) until the internal server received a message containing
 * `marker`, looking only at messages from index `from` on.
 */
async function delivered(env: BenchEnv, marker: string, from: number, timeoutMs = 30_000): Promise<void> {
  const messages = env.internal.messages
  const until = Date.now() + timeoutMs
  let seen = from
  for (;;) {
    for (; seen < messages.length; seen++) if (messages[seen]!.raw.includes(marker)) return
    if (Date.now() > until) throw new Error(`${marker} not delivered to the internal server within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

/** Every bench: environment up and earlier mail delivered before warmup and before run. */
let env: BenchEnv
const withEnv: NonNullable<BenchOptions['setup']> = async () => {
  env = await quietBenchEnv()
}

describe('inbound accept -> spool -> internal delivery (~4 KiB messages)', () => {
  bench(
    'fresh session per message: EHLO, MAIL, RCPT, DATA, QUIT (until 250 after DATA)',
    async () => {
      const client = await session(env)
      await transaction(env, client)
      await client.quit()
    },
    { time: 8_000, warmupIterations: 10, setup: withEnv },
  )

  bench(
    'fresh session per message with attachments (~90 KiB: text, HTML, PDF, ZIP), until 250 after DATA',
    async () => {
      const client = await session(env)
      const r = await sendMail(client, { from: FROM, to: [TO] }, messageWithAttachments().text)
      expectReply('end of DATA', r.end, 250)
      env.accepted++
      await client.quit()
    },
    { time: 8_000, warmupIterations: 10, setup: withEnv },
  )

  // MailSink is smtp-server, which holds every greeting back by a fixed 100 ms
  // ("early talker" detection, not configurable). Each delivery from the gateway
  // opens a new connection to it, so that delay is part of the next bench; this
  // reference row shows its size.
  bench(
    'reference: one message straight to the internal server (MailSink), no gateway',
    async () => {
      const [host, port] = env.internal.address.split(':')
      const { client, greeting } = await SmtpClient.connect({ host: host!, port: Number(port), timeoutMs: 30_000 })
      expectReply('sink greeting', greeting, 220)
      expectReply('sink EHLO', (await client.ehlo('bench.test')).reply, 250)
      const { text } = message4k('reference')
      const r = await sendMail(client, { from: FROM, to: [TO] }, text)
      expectReply('sink end of DATA', r.end, 250)
      await client.quit()
      env.accepted++ // the sink counts it too
    },
    { time: 3_000, warmupIterations: 3, setup: withEnv },
  )

  bench(
    'fresh session per message, until the internal server received it',
    async () => {
      const from = env.internal.messages.length
      const client = await session(env)
      const marker = await transaction(env, client)
      await client.quit()
      await delivered(env, marker, from)
    },
    { time: 8_000, warmupIterations: 10, setup: withEnv },
  )

  // tinybench calls `teardown` before it computes its results, so the per-message
  // figure is computed from this bench's own measurement of the measured cycle.
  const perSession = { measuring: false, sessions: 0, ms: 0 }
  bench(
    `${PER_SESSION} messages over one session: EHLO, ${PER_SESSION} x (MAIL, RCPT, DATA), QUIT`,
    async () => {
      const t0 = performance.now()
      const client = await session(env)
      for (let i = 0; i < PER_SESSION; i++) await transaction(env, client)
      await client.quit()
      if (perSession.measuring) {
        perSession.sessions++
        perSession.ms += performance.now() - t0
      }
    },
    {
      time: 8_000,
      warmupIterations: 3,
      setup: async (task, mode) => {
        await withEnv(task, mode)
        perSession.measuring = mode === 'run'
      },
      teardown: (_task, mode) => {
        if (mode !== 'run' || perSession.sessions === 0) return
        const perMessage = perSession.ms / (perSession.sessions * PER_SESSION)
        console.log(`  ${PER_SESSION} messages/session: ${perMessage.toFixed(2)} ms per message (${(1000 / perMessage).toFixed(0)} messages/s, one session at a time)`)
      },
    },
  )
})

describe('inbound RCPT rejection', () => {
  bench(
    'EHLO, MAIL, RCPT to a non-accepted domain (550 5.7.1), QUIT',
    async () => {
      const client = await session(env)
      expectReply('MAIL', await client.send(`MAIL FROM:<${FROM}>`), 250)
      expectReply('RCPT', await client.send('RCPT TO:<victim@elsewhere.test>'), 550, '5.7.1')
      await client.quit()
    },
    { time: 5_000, warmupIterations: 10, setup: withEnv },
  )
})

describe('end-to-end throughput', () => {
  bench(
    `${E2E_MESSAGES} messages, ${E2E_CONCURRENCY} concurrent sessions, until the internal server received all`,
    async () => {
      const run = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const messages = env.internal.messages
      let seen = messages.length // everything before is older mail
      const started = performance.now()
      let next = 0
      const markers: string[] = []
      const sender = async (): Promise<void> => {
        while (next < E2E_MESSAGES) {
          const n = next++
          const client = await session(env)
          markers.push(await transaction(env, client, `${run} ${n}`))
          await client.quit()
        }
      }
      await Promise.all(Array.from({ length: E2E_CONCURRENCY }, () => sender()))
      const acceptedMs = performance.now() - started
      const pending = new Set(markers)
      const until = Date.now() + 120_000
      while (pending.size > 0) {
        for (; seen < messages.length; seen++) {
          const m = /Message-ID: <([^@>]+)@test\.invalid>/i.exec(messages[seen]!.raw)
          if (m) pending.delete(m[1]!)
        }
        if (pending.size === 0) break
        if (Date.now() > until) throw new Error(`${pending.size} of ${E2E_MESSAGES} messages not delivered within 120 s`)
        await new Promise((r) => setTimeout(r, 2))
      }
      const deliveredMs = performance.now() - started
      console.log(
        `  end-to-end: ${E2E_MESSAGES} messages, concurrency ${E2E_CONCURRENCY}: ` +
          `all accepted in ${(acceptedMs / 1000).toFixed(2)} s (${((E2E_MESSAGES * 1000) / acceptedMs).toFixed(1)} msgs/s), ` +
          `all delivered in ${(deliveredMs / 1000).toFixed(2)} s (${((E2E_MESSAGES * 1000) / deliveredMs).toFixed(1)} msgs/s)`,
      )
    },
    {
      // one measured run, no warmup: the measurement is the console line (and the time below)
      time: 0,
      iterations: 1,
      warmupTime: 0,
      warmupIterations: 0,
      setup: async (_task, mode) => {
        if (mode === 'run') env = await quietBenchEnv()
      },
      // the last bench of the file: stop redis, the sink and Haraka
      teardown: (_task, mode) => {
        if (mode === 'run') void releaseBenchEnv()
      },
    },
  )
})
