// `gateway quarantine list|show|release|delete`: the administrator's view of the
// inbound quarantine. Release delivers the message, unchanged but for one
// X-Gateway-Released header, to the internal mail servers (in configured order),
// then removes it from the quarantine. The quarantine is a folder of the
// deployment (GATEWAY_ROOT), like the runtime file; the internal servers are the
// ones the running gateway delivers to (its environment may override the file).

import os from 'node:os'

import { instanceDir } from '../lib/config/paths'
import { formatHostPort } from '../lib/net/address'
import { quarantineDir } from '../lib/quarantine/settings'
import { QuarantineStore, type QuarantineEntry } from '../lib/quarantine/store'
import { SmtpClient } from '../lib/smtp/client'
import { internalHosts, runningGateway } from './running-gateway'

const USAGE = 'usage: gateway quarantine list | show ID | release ID | delete ID'

/** Sender-controlled text shown to the administrator: control characters (terminal escapes, tabs) made visible. */
function printable(text: string, keepNewlines = false): string {
  const controls = keepNewlines ? /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g : /[\x00-\x1f\x7f]/g
  return text.replace(controls, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

export async function quarantineCommand(args: string[]): Promise<number> {
  const [action, id] = args
  const store = new QuarantineStore(quarantineDir(instanceDir('inbound')))
  if (action === 'list') {
    console.log(['id', 'quarantined', 'check', 'result', 'from', 'to', 'size', 'subject'].join('\t'))
    for (const e of store.list()) console.log([e.id, e.at, e.check, e.result, e.from || '<>', e.to.join(','), e.size, e.subject].map((v) => printable(String(v))).join('\t'))
    return 0
  }
  if (!id || !['show', 'release', 'delete'].includes(action ?? '')) {
    console.error(USAGE)
    return 64
  }
  const held = store.get(id)
  if (!held) {
    console.error(`gateway: no quarantined message ${id} in ${store.dir}`)
    return 1
  }
  if (action === 'show') {
    console.log(JSON.stringify(held.entry, null, 2))
    console.log(printable(held.message.toString('utf8'), true))
    return 0
  }
  if (action === 'delete') {
    store.delete(id)
    console.log(`deleted ${id}`)
    return 0
  }
  const to = await release(held.entry, held.message)
  store.delete(id)
  console.log(`released ${id} to ${to}`)
  return 0
}

/** Delivers to the first internal server that accepts; throws if none does. */
async function release(entry: QuarantineEntry, message: Buffer): Promise<string> {
  const stamp = `X-Gateway-Released: ${new Date().toUTCString()} by ${os.userInfo().username} (was ${entry.check}: ${entry.result})\r\n`
  const errors: string[] = []
  for (const host of internalHosts(runningGateway())) {
    try {
      const { client, greeting } = await SmtpClient.connect({ ...host, timeoutMs: 60_000 })
      try {
        if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.text}`)
        await expect(client.send(`EHLO ${os.hostname()}`), 250)
        await expect(client.send(`MAIL FROM:<${entry.from}>`), 250)
        for (const rcpt of entry.to) await expect(client.send(`RCPT TO:<${rcpt}>`), 250)
        const { start, end } = await client.data(Buffer.concat([Buffer.from(stamp), message]))
        if (start.code !== 354 || end?.code !== 250) throw new Error(`DATA: ${end?.code ?? start.code} ${end?.text ?? start.text}`)
        return formatHostPort(host)
      } finally {
        await client.quit()
      }
    } catch (err) {
      errors.push(`${formatHostPort(host)}: ${(err as Error).message}`)
    }
  }
  throw new Error(`release failed, the message stays in quarantine (${errors.join('; ')})`)
}

async function expect(reply: Promise<{ code: number; text: string }>, code: number): Promise<void> {
  const r = await reply
  if (r.code !== code) throw new Error(`${r.code} ${r.text}`)
}
