// Smaller policies over real SMTP: the example plugin (recipient limit), the
// outbound client allow-list, and failover between internal mail servers.

import { describe, expect, it } from 'vitest'

import { gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage } from './helpers/gateway'
import { addressBlock } from './helpers/net'

const block = addressBlock()
const ALLOWED_CLIENT = block.ip(100)
const { sink: liveInternal, gw } = gatewayWithSink({
  block,
  instances: ['inbound', 'outbound'],
  // internal servers: the first is down for the whole file, the second (the sink) answers
  internalHosts: (sink) => [`${block.ip(5)}:2526`, sink.address],
  files: {
    'inbound/config/gateway-recipient-limit.ini': '[main]\nmax_recipients=2\n',
    'outbound/config/gateway-client-networks.ini': `[main]\nallow[]=${ALLOWED_CLIENT}/32\n`,
  },
})

describe('example plugin: gateway-recipient-limit', () => {
  it('accepts up to the limit, answers 452 4.5.3 beyond it, and the message goes to the accepted ones', async () => {
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const { text, marker } = testMessage({ from: 'a@sender.test', to: 'r1@example.com' })
    const r = await sendMail(client, { from: 'a@sender.test', to: ['r1@example.com', 'r2@example.com', 'r3@example.com'] }, text)
    await client.quit()
    expect(r.rcpts.map((x) => [x.code, x.enhanced])).toEqual([
      [250, ''],
      [250, ''],
      [452, '4.5.3'],
    ])
    expect(r.end!.code).toBe(250)
    const msg = (await liveInternal.waitFor(1)).find((m) => m.raw.includes(marker))!
    expect(msg.to.sort()).toEqual(['r1@example.com', 'r2@example.com'])
  })
})

describe('internal server failover', () => {
  it('delivers to the second internal server when the first does not answer', async () => {
    const before = liveInternal.messages.length
    const { client } = await gw.connect('inbound')
    await client.ehlo()
    const { text, marker } = testMessage({ from: 'a@sender.test', to: 'x@example.com' })
    expect((await sendMail(client, { from: 'a@sender.test', to: ['x@example.com'] }, text)).end!.code).toBe(250)
    await client.quit()
    const arrived = (await liveInternal.waitFor(before + 1)).filter((m) => m.raw.includes(marker))
    expect(arrived).toHaveLength(1)
  })
})

describe('outbound client allow-list', () => {
  it('refuses a client outside the allowed networks at connect with 554 5.7.1', async () => {
    const { client, greeting } = await gw.connect('outbound', block.ip(101))
    expect([greeting.code, greeting.enhanced]).toEqual([554, '5.7.1'])
    await client.waitClosed()
    expect(client.closed).toBe(true)
  })

  it('lets an allowed client in (it must still authenticate)', async () => {
    const { client, greeting } = await gw.connect('outbound', ALLOWED_CLIENT)
    expect(greeting.code).toBe(220)
    await client.ehlo()
    await client.send('MAIL FROM:<a@example.com>')
    expect((await client.send('RCPT TO:<x@partner.test>')).code).toBe(530)
    await client.quit()
  })
})
