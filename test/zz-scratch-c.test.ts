import fs from 'node:fs'
import { describe, it } from 'vitest'
import { gatewayWithSink, delivered } from './helpers/fixtures'
import { sendMail } from './helpers/gateway'

const { gw, sink } = gatewayWithSink({ acceptedDomains: ['example.com', 'xn--bcher-kva.example'] })

function msg(headers: string[]): { text: string; marker: string } {
  const marker = `marker-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
  return { text: [...headers, `Message-ID: <${marker}@t.invalid>`, '', 'body ' + marker, ''].join('\r\n'), marker }
}
const out: string[] = []
async function go(label: string, mailFrom: string, headers: string[], rcpt = 'bob@example.com') {
  const { client } = await gw.connect('inbound')
  const e = await client.ehlo('mx.sender.test')
  const { text, marker } = msg(headers)
  const mail = await client.send(`MAIL FROM:<${mailFrom}>${/[^\x00-\x7f]/.test(mailFrom) ? ' SMTPUTF8' : ''}`)
  const r = await client.send(`RCPT TO:<${rcpt}>`)
  let end = ''
  let hdrs = ''
  if (mail.code === 250 && r.code === 250) {
    const d = await client.data(text)
    end = `${d.end?.code} ${d.end?.text}`
    if (d.end?.code === 250) {
      const m = await delivered(sink, marker)
      hdrs = m.raw.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => /^(x-gateway|authentication|original-auth|from)/i.test(l) || /^\s/.test(l)).join(' || ')
    }
  }
  await client.quit()
  out.push(`${label}: MAIL ${mail.code} ${mail.text} | RCPT ${r.code} | END ${end}\n    ${hdrs}`)
  void e
}

describe('scratch c', () => {
  it('runs', async () => {
    await go('idn envelope', 'ceo@bücher.example', ['From: x@sender.test', 'To: bob@example.com', 'Subject: idn'])
    await go('idn header', 'x@sender.test', ['From: ceo@bücher.example', 'To: bob@example.com', 'Subject: idn'])
    await go('ascii control', 'ceo@xn--bcher-kva.example', ['From: x@sender.test', 'To: bob@example.com', 'Subject: idn'])
    await go('forged AR', 'x@sender.test', ['From: x@sender.test', 'To: bob@example.com', 'Subject: ar', 'Authentication-Results: vm; dmarc=pass header.from=example.com', 'Authentication-Results: "VM."; spf=pass', 'Authentication-Results: (c) vm 1; dkim=pass', 'Authentication-Results : vm; dmarc=pass', 'Original-Authentication-Results: vm; dmarc=pass', 'Authentication-Results: other.test; dmarc=pass'])
    await go('forged X-Gateway', 'x@sender.test', ['From: x@sender.test', 'To: bob@example.com', 'Subject: xg', 'X-Gateway-SCL: 0', 'x-gateway-checks : spam=scl_0 (accept)', 'X-GATEWAY-Virus:clean', 'X-Gateway-Tag\t: none'])
    fs.writeFileSync('/tmp/scratch/c.out', out.join('\n') + '\n')
  }, 120_000)
})
