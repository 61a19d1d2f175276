// Helpers for tests of the outbound instance's delivery features (scrubbing,
// DKIM signing, TCP_NODELAY): the shipped outbound plugin list with those
// plugins inserted where they belong, users, and authenticated relay sessions.

import fs from 'node:fs'
import path from 'node:path'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { base64, type SmtpClient, type SmtpReply } from '../../lib/smtp/client'
import { sendMail, testMessage, type TestGateway } from './gateway'

export interface OutboundExtras {
  scrub?: boolean
  dkim?: boolean
  nodelay?: boolean
}

/** The delivery features these tests switch on and off. */
const EXTRAS: Record<keyof OutboundExtras, string> = { scrub: 'gateway-outbound-scrub', dkim: 'dkim', nodelay: 'gateway-tcp-nodelay' }

/**
 * The repository's outbound/config/plugins (which ships all three features, in
 * their checked order) without the extras a test did not ask for.
 */
export function outboundPlugins(extras: OutboundExtras): string {
  const shipped = fs.readFileSync(path.join(GATEWAY_ROOT, 'outbound', 'config', 'plugins'), 'utf8').split('\n')
  for (const name of Object.values(EXTRAS)) {
    if (!shipped.some((l) => l.trim() === name)) throw new Error(`outbound/config/plugins no longer lists ${name}`)
  }
  const unwanted = new Set((Object.keys(EXTRAS) as (keyof OutboundExtras)[]).filter((k) => !extras[k]).map((k) => EXTRAS[k]))
  return `${shipped.filter((l) => !unwanted.has(l.trim())).join('\n').trimEnd()}\n`
}

export { addUser } from './fixtures'

/** An outbound session after EHLO, STARTTLS, EHLO and a successful AUTH PLAIN. */
export async function relaySession(gw: TestGateway, user: string, password: string): Promise<SmtpClient> {
  const { client } = await gw.connect('outbound')
  await client.ehlo('app1.corp.example')
  if ((await client.startTls()).code !== 220) throw new Error('STARTTLS refused')
  await client.ehlo('app1.corp.example')
  const auth = await client.send(`AUTH PLAIN ${base64(`\0${user}\0${password}`)}`)
  if (auth.code !== 235) throw new Error(`AUTH failed: ${auth.code} ${auth.text}`)
  return client
}

export interface Relayed {
  end: SmtpReply | undefined
  marker: string
  text: string
}

/** One authenticated message through the outbound instance. */
export async function relayOne(
  gw: TestGateway,
  m: { user: string; password: string; from: string; to: string[]; headerFrom?: string; headers?: string[]; body?: string; subject?: string },
): Promise<Relayed> {
  const client = await relaySession(gw, m.user, m.password)
  const { text, marker } = testMessage({
    from: m.headerFrom ?? m.from,
    to: m.to[0]!,
    ...(m.headers ? { headers: m.headers } : {}),
    ...(m.body !== undefined ? { body: m.body } : {}),
    ...(m.subject ? { subject: m.subject } : {}),
  })
  const r = await sendMail(client, { from: m.from, to: m.to }, text)
  await client.quit()
  return { end: r.end, marker, text }
}

/** The header block of a raw message, unfolded, one field per entry. */
export function headerFields(raw: string): string[] {
  return raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ').split('\r\n')
}

/** Values of one header field, unfolded. */
export function fieldValues(raw: string, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`
  return headerFields(raw)
    .filter((l) => l.toLowerCase().startsWith(prefix))
    .map((l) => l.slice(prefix.length).trim())
}
