import fs from 'node:fs'
import { describe, it } from 'vitest'
import { gatewayWithSink, delivered } from './helpers/fixtures'
import { sendMail } from './helpers/gateway'

const { gw, sink } = gatewayWithSink({ files: { 'inbound/config/gateway-recipients.ini': '[internal_only]\naddresses[]=allstaff@example.com\n' } })
function rss(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024)
}
function hwm(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(s)![1]) / 1024)
}
describe('scratch e', () => {
  it('runs', async () => {
    const out: string[] = []
    {
      const marker = `m-${Date.now()}`
      const { client } = await gw.connect('inbound')
      await client.ehlo('x.test')
      const r = await sendMail(client, { from: 'a@sender.test', to: ['allstaff%example.com@example.com'] }, `From: a@sender.test\r\nSubject: p\r\n\r\n${marker}\r\n`)
      await client.quit()
      let d = ''
      if (r.end?.code === 250) d = (await delivered(sink, marker)).to.join(',')
      out.push(`percent hack: RCPT ${r.rcpts[0]?.code} END ${r.end?.code} delivered to ${d}`)
    }
    {
      const before = rss(gw.pid('inbound'))
      const parts = 990
      const body = ['--b', ...Array(parts - 1).fill('\r\n--b'), '--b--'].join('\r\n')
      const text = `From: a@sender.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${body}\r\n`
      const clients = await Promise.all(Array.from({ length: 8 }, () => gw.connect('inbound')))
      await Promise.all(clients.map(async ({ client }) => { await client.ehlo('x.test'); await client.send('MAIL FROM:<a@sender.test>'); await client.send('RCPT TO:<bob@example.com>'); await client.send('DATA') }))
      // send the bodies but hold the final dot, so the transactions stay in memory together
      for (const { client } of clients) client.write(text.replace(/^\./gm, '..'))
      await new Promise((r) => setTimeout(r, 3000))
      const during = rss(gw.pid('inbound'))
      for (const { client } of clients) client.write('.\r\n')
      await new Promise((r) => setTimeout(r, 2000))
      out.push(`8 concurrent messages of ${text.length} bytes with ${parts} empty top-level parts: RSS ${before} MB -> ${during} MB (peak ${hwm(gw.pid('inbound'))} MB)`)
      for (const { client } of clients) await client.quit().catch(() => {})
    }
    fs.writeFileSync('/tmp/scratch/e.out', out.join('\n') + '\n')
  }, 120_000)
})
