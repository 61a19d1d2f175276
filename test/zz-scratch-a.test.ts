import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { gatewayWithSink, delivered } from './helpers/fixtures'
import { sendMail, testMessage } from './helpers/gateway'
import { fakeWindowsProgram } from './helpers/content-mail'

const { gw, sink } = gatewayWithSink({
  files: {
    'inbound/config/gateway-sender-filter.ini': '[protected]\naddresses[]=ceo@example.com\n',
    'inbound/config/gateway-recipients.ini': '[internal_only]\naddresses[]=allstaff@example.com\n',
  },
})

async function raw(from: string, to: string, text: string) {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.sender.test')
  const r = await sendMail(client, { from, to: [to] }, text)
  await client.quit()
  return r
}

function msg(headers: string[], body = 'hello'): { text: string; marker: string } {
  const marker = `marker-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
  return { text: [...headers, `Message-ID: <${marker}@t.invalid>`, '', body, marker, ''].join('\r\n'), marker }
}

const out: string[] = []
describe('scratch', () => {
  it('header From tricks', async () => {
    const cases = [
      'From: <ceo@example.com>',
      'From : <ceo@example.com>',
      'From: "ceo"@example.com',
      'From: ceo(x)@example.com',
      'From: CEO <ceo(x)@example.com>',
      'From: =?utf-8?q?CEO_=22?= <ceo@example.com> (=?utf-8?q?=22?=)',
      'From: =?utf-8?q?=28?= <ceo@example.com> =?utf-8?q?=29?=',
      'From: it-support@example.com',
      'From: "it-support"@example.com',
    ]
    for (const h of cases) {
      const { text, marker } = msg([h, 'To: bob@example.com', 'Subject: t'])
      const r = await raw('x@evil.test', 'bob@example.com', text)
      let got = ''
      if (r.end?.code === 250) { const m = await delivered(sink, marker); got = (m.raw.match(/^(X-Gateway-Checks|Authentication-Results):.*$/gm) ?? []).join(' | ') }
      out.push(`${h} => ${r.end?.code} ${r.end?.text ?? ''} ${got}`)
    }
  }, 120_000)

  it('MIME tricks', async () => {
    const exe = fakeWindowsProgram().toString('base64').match(/.{1,76}/g)!
    const part = ['Content-Type: application/octet-stream; name="evil.exe"', 'Content-Disposition: attachment; filename="evil.exe"', 'Content-Transfer-Encoding: base64', '', ...exe]
    // control
    {
      const { text, marker } = msg(['From: a@sender.test', 'To: bob@example.com', 'Subject: ctl', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="real"'], ['--real', 'Content-Type: text/plain', '', 'hi', '--real', ...part, '--real--'].join('\r\n'))
      const r = await raw('a@sender.test', 'bob@example.com', text)
      out.push(`control exe => ${r.end?.code} ${r.end?.text}`)
      void marker
    }
    // xboundary differential
    {
      const { text, marker } = msg(['From: a@sender.test', 'To: bob@example.com', 'Subject: xb', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; xboundary="fake"; boundary="real"'], ['--real', 'Content-Type: text/plain', '', 'hi', '--real', ...part, '--real--'].join('\r\n'))
      const r = await raw('a@sender.test', 'bob@example.com', text)
      out.push(`xboundary exe => ${r.end?.code} ${r.end?.text}`)
      if (r.end?.code === 250) { const m = await delivered(sink, marker); fs.writeFileSync('/tmp/scratch/xboundary.eml', m.raw) }
    }
    // depth 101
    {
      const depth = 101
      const lines: string[] = []
      for (let i = 1; i < depth; i++) lines.push(`--b${i - 1}`, `Content-Type: multipart/mixed; boundary="b${i}"`, '')
      lines.push(`--b${depth - 1}`, ...part)
      for (let i = depth - 1; i >= 0; i--) lines.push(`--b${i}--`)
      const { text, marker } = msg(['From: a@sender.test', 'To: bob@example.com', 'Subject: deep', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b0"'], lines.join('\r\n'))
      const r = await raw('a@sender.test', 'bob@example.com', text)
      out.push(`depth ${depth} exe => ${r.end?.code} ${r.end?.text}`)
      if (r.end?.code === 250) { const m = await delivered(sink, marker); fs.writeFileSync('/tmp/scratch/deep.eml', m.raw) }
    }
  }, 120_000)

  it('internal-only', async () => {
    for (const to of ['allstaff@example.com', '"allstaff"@example.com', 'ALLSTAFF+x@example.com', '"all\\staff"@example.com']) {
      const { text, marker } = msg(['From: a@sender.test', 'To: x@example.com', 'Subject: io'])
      const r = await raw('a@sender.test', to, text)
      let d = ''
      if (r.end?.code === 250) { const m = await delivered(sink, marker); d = `delivered rcpt=${m.to.join(',')}` }
      out.push(`RCPT ${to} => ${r.rcpts[0]?.code} ${r.rcpts[0]?.text} ${r.end?.code ?? ''} ${d}`)
    }
    fs.writeFileSync('/tmp/scratch/a.out', out.join('\n') + '\n')
  }, 120_000)
})
