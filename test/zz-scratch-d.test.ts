import fs from 'node:fs'
import { describe, it } from 'vitest'
import { gatewayWithSink } from './helpers/fixtures'

const { gw } = gatewayWithSink({})

function rss(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(s)![1]) / 1024)
}

describe('scratch parts bomb', () => {
  it('attached message with many empty parts', async () => {
    const out: string[] = []
    for (const parts of [2000, 20000]) {
      const inner = ['Content-Type: multipart/mixed; boundary=b', '', ...Array(parts).fill('--b\r\n'), '--b--'].join('\r\n')
      const text = ['From: a@sender.test', 'To: bob@example.com', 'Subject: bomb', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=outer', '', '--outer', 'Content-Type: text/plain', '', 'hi', '--outer', 'Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="fwd.eml"', '', inner, '--outer--', ''].join('\r\n')
      const { client } = await gw.connect('inbound')
      await client.ehlo('mx.sender.test')
      await client.send('MAIL FROM:<a@sender.test>')
      await client.send('RCPT TO:<bob@example.com>')
      const t0 = Date.now()
      const p = client.data(text)
      await new Promise((r) => setTimeout(r, 500))
      const t1 = Date.now()
      const other = await gw.connect('inbound')
      const greetMs = Date.now() - t1
      await other.client.quit()
      const r = await p
      out.push(`parts=${parts} size=${text.length}B: DATA reply ${r.end?.code} ${r.end?.text} after ${Date.now() - t0} ms; other client's greeting took ${greetMs} ms; haraka peak RSS ${rss(gw.pid('inbound'))} MB`)
      await client.quit()
    }
    fs.writeFileSync('/tmp/scratch/d.out', out.join('\n') + '\n')
  }, 300_000)
})
