// `gateway send`: sends one test message and prints the SMTP dialogue, so an
// administrator can see exactly what the gateway answered.

import os from 'node:os'

import { formatHostPort, parseHostPort } from '../lib/net/address'
import { base64, SmtpClient, type SmtpReply } from '../lib/smtp/client'
import { inboundAddress, runningGateway } from './running-gateway'

const USAGE = `usage: gateway send --to ADDRESS [--from ADDRESS] [--server HOST:PORT] [--subject TEXT]
                    [--tls] [--user NAME --password PASSWORD]
  default server: the inbound address of the running gateway (else the configured one);
  --user implies --tls (AUTH needs it)`

export async function sendCommand(args: string[]): Promise<number> {
  const opts = new Map<string, string>()
  const flags = new Set<string>()
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--tls') flags.add('tls')
    else if (a.startsWith('--') && args[i + 1] !== undefined) opts.set(a.slice(2), args[++i]!)
    else {
      console.error(USAGE)
      return 64
    }
  }
  const to = opts.get('to')
  if (!to) {
    console.error(USAGE)
    return 64
  }
  const server = opts.has('server') ? parseHostPort(opts.get('server')!, 25) : inboundAddress(runningGateway())
  const from = opts.get('from') ?? `tester@${os.hostname()}`
  const user = opts.get('user')
  const subject = opts.get('subject') ?? 'Gateway test message'

  const show = (dir: string, text: string) => console.log(`${dir} ${text}`)
  const step = async (line: string, shown = line): Promise<SmtpReply> => {
    show('>', shown)
    const r = await client.send(line)
    for (const l of r.lines) show('<', `${r.code} ${l}`)
    return r
  }
  console.log(`connecting to ${formatHostPort(server)}`)
  const { client, greeting } = await SmtpClient.connect({ ...server, timeoutMs: 60_000 })
  show('<', `${greeting.code} ${greeting.text}`)
  try {
    await step(`EHLO ${os.hostname()}`)
    if (flags.has('tls') || user) {
      show('>', 'STARTTLS')
      const r = await client.startTls()
      show('<', `${r.code} ${r.text}`)
      if (r.code !== 220) return 1
      await step(`EHLO ${os.hostname()}`)
    }
    if (user) {
      const r = await step(`AUTH PLAIN ${base64(`\0${user}\0${opts.get('password') ?? ''}`)}`, 'AUTH PLAIN <credentials>')
      if (r.code !== 235) return 1
    }
    if ((await step(`MAIL FROM:<${from}>`)).code !== 250) return 1
    if ((await step(`RCPT TO:<${to}>`)).code !== 250) return 1
    const message = [
      `From: <${from}>`,
      `To: <${to}>`,
      `Subject: ${subject}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${Date.now()}.${process.pid}@${os.hostname()}>`,
      '',
      'This is a test message sent with "gateway send".',
      '',
    ].join('\r\n')
    show('>', 'DATA')
    const { start, end } = await client.data(message)
    show('<', `${start.code} ${start.text}`)
    if (end) show('<', `${end.code} ${end.text}`)
    return end?.code === 250 ? 0 : 1
  } finally {
    await client.quit()
  }
}
