// Our own load generator, for what smtp-source cannot do: STARTTLS + AUTH LOGIN
// (one account, as an internal mail server relays), several messages per
// session, and per-transaction latency. N parallel sessions share one pool of
// messages; each opens, sends up to `perSession` messages, and quits.
// A 4xx reply (a busy server: data budget, connection limit) puts the message
// back for a later session; a 5xx reply or a broken session fails the run, so a
// refusing server never looks fast.

import { base64, SmtpClient, type SmtpReply } from '../../lib/smtp/client'
import { benchMessage } from './message'
import type { SourceLoad } from './smtp-source'

export interface ClientLoad extends SourceLoad {
  perSession: number
  /** STARTTLS, then AUTH LOGIN with this account. */
  auth?: { user: string; password: string }
}

export interface ClientResult {
  accepted: number
  /** Messages answered 4xx and sent again. */
  retried: number
  /** ms from MAIL FROM to the reply after DATA, one per accepted message. */
  latencies: number[]
  /** Longest wait for a connection + greeting (ms). */
  maxConnectMs: number
}

const MAX_RETRIES_PER_MESSAGE = 50

export async function runClientLoad(load: ClientLoad): Promise<ClientResult> {
  const result: ClientResult = { accepted: 0, retried: 0, latencies: [], maxConnectMs: 0 }
  let left = load.total
  // one body per size, with fresh headers each message: building 10 MiB strings per message would load the client, not the server
  const body = benchMessage(load.from, load.to, load.bytes).split('\r\n\r\n').slice(1).join('\r\n\r\n')
  const worker = async (): Promise<void> => {
    while (left > 0) {
      const t0 = performance.now()
      const client = await openSession(load)
      result.maxConnectMs = Math.max(result.maxConnectMs, performance.now() - t0)
      try {
        for (let i = 0; i < load.perSession && left > 0; i++) {
          left--
          const header = benchMessage(load.from, load.to, 0).split('\r\n\r\n')[0]!
          const started = performance.now()
          const outcome = await transaction(client, load, `${header}\r\n\r\n${body}`)
          if (outcome === 'ok') {
            result.latencies.push(performance.now() - started)
            result.accepted++
            continue
          }
          left++ // 4xx: send it again, in a new session after a short pause
          if (++result.retried > MAX_RETRIES_PER_MESSAGE * Math.max(1, load.total)) throw new Error('too many temporary failures')
          await new Promise((r) => setTimeout(r, 20))
          break
        }
      } finally {
        await client.quit()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(load.sessions, load.total) }, () => worker()))
  return result
}

async function openSession(load: ClientLoad): Promise<SmtpClient> {
  for (let attempt = 0; ; attempt++) {
    const { client, greeting } = await SmtpClient.connect({ host: load.host, port: load.port, timeoutMs: 120_000 })
    if (greeting.code === 220) {
      expect('EHLO', (await client.ehlo('client.bench.test')).reply, 250)
      if (load.auth) {
        expect('STARTTLS', await client.startTls(), 220)
        expect('EHLO after STARTTLS', (await client.ehlo('client.bench.test')).reply, 250)
        expect('AUTH LOGIN', await client.send('AUTH LOGIN'), 334)
        expect('AUTH LOGIN user', await client.send(base64(load.auth.user)), 334)
        expect('AUTH LOGIN password', await client.send(base64(load.auth.password)), 235)
      }
      return client
    }
    await client.quit()
    // 421 at connect (a connection limit): wait and try again
    if (greeting.code !== 421 || attempt > 200) throw new Error(`greeting: ${greeting.code} ${greeting.text}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function transaction(client: SmtpClient, load: ClientLoad, message: string): Promise<'ok' | 'tempfail'> {
  const steps: [string, () => Promise<SmtpReply>, number][] = [
    ['MAIL', () => client.send(`MAIL FROM:<${load.from}>`), 250],
    ...recipientsOf(load).map((to): [string, () => Promise<SmtpReply>, number] => ['RCPT', () => client.send(`RCPT TO:<${to}>`), 250]),
    ['DATA', async () => {
      const r = await client.data(message)
      return r.end ?? r.start
    }, 250],
  ]
  for (const [what, step, want] of steps) {
    const r = await step()
    if (r.code >= 400 && r.code < 500) {
      await client.send('RSET').catch(() => undefined)
      return 'tempfail'
    }
    expect(what, r, want)
  }
  return 'ok'
}

/** The envelope recipients of one message, named as smtp-source -r names them (1bob@…, 2bob@…) when there are several. */
export function recipientsOf(load: Pick<ClientLoad, 'to' | 'recipients'>): string[] {
  const n = load.recipients ?? 1
  return n <= 1 ? [load.to] : Array.from({ length: n }, (_, i) => `${i + 1}${load.to}`)
}

function expect(what: string, r: SmtpReply, code: number): void {
  if (r.code !== code) throw new Error(`${what}: expected ${code}, got ${r.code} ${r.text}`)
}
