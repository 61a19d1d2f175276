import fs from 'node:fs'
import { describe, it } from 'vitest'
import { gatewayWithSink } from './helpers/fixtures'

const { gw } = gatewayWithSink({})

describe('scratch redos', () => {
  it('From header of joined encoded words', async () => {
    const out: string[] = []
    for (const lines of [20, 150]) {
      const from = ['From: ' + `=?us-ascii?q?${'a'.repeat(900)}?=`]
      for (let i = 1; i < lines; i++) from.push(' ' + `=?us-ascii?q?${'a'.repeat(900)}?=`)
      const text = [...from, 'To: bob@example.com', 'Subject: x', '', 'body', ''].join('\r\n')
      const { client } = await gw.connect('inbound')
      await client.ehlo('mx.sender.test')
      await client.send('MAIL FROM:<a@sender.test>')
      await client.send('RCPT TO:<bob@example.com>')
      const t0 = Date.now()
      const p = client.data(text)
      await new Promise((r) => setTimeout(r, 300))
      // a second, unrelated client meanwhile
      const t1 = Date.now()
      const other = await gw.connect('inbound')
      const greetMs = Date.now() - t1
      await other.client.quit()
      const r = await p
      out.push(`lines=${lines} decodedLen~${lines * 900}: DATA reply ${r.end?.code} ${r.end?.text} after ${Date.now() - t0} ms; other client's greeting took ${greetMs} ms`)
      await client.quit()
    }
    fs.writeFileSync('/tmp/scratch/b.out', out.join('\n') + '\n')
  }, 300_000)
})
