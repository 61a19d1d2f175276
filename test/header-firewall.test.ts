// The header firewall over real SMTP: headers only the gateway may set never get
// from the Internet to the internal server, whatever their case or folding.

import { afterAll, beforeAll, expect, inject, it } from 'vitest'

import { sendMail, testMessage, TestGateway } from './helpers/gateway'
import { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'

const block = addressBlock()
const sink = new MailSink({ host: block.ip(3), port: 2526 })
const gw = new TestGateway({
  block,
  redisUrl: inject('redisUrl'),
  internalHosts: [sink.address],
  instances: ['inbound'],
  files: { 'inbound/config/gateway-header-firewall.ini': '[main]\nstrip[]=X-Custom-Trust\nstrip_prefix[]=X-Internal-\n' },
})

beforeAll(async () => {
  await sink.start()
  await gw.start()
})
afterAll(async () => {
  await gw.stop()
  await sink.stop()
})

it('strips X-Gateway-* and configured internal headers from Internet mail, keeps the rest', async () => {
  const { client } = await gw.connect('inbound')
  await client.ehlo()
  const { text, marker } = testMessage({
    from: 'x@sender.test',
    to: 'bob@example.com',
    headers: ['X-Gateway-SCL: 0', 'X-Gateway-Trusted : obsolete syntax, invisible to Haraka\'s header map', 'x-gateway-checks: spam=clean (accept)', 'X-GATEWAY-Released: yes,', '\tfolded continuation', 'X-Internal-Route: trusted', 'X-Custom-Trust: yes', 'X-Keep-Me: hello'],
  })
  const r = await sendMail(client, { from: 'x@sender.test', to: ['bob@example.com'] }, text)
  await client.quit()
  expect(r.end!.code).toBe(250)
  const msg = (await sink.waitFor(1)).find((m) => m.raw.includes(marker))!
  const headerBlock = msg.raw.split('\r\n\r\n')[0]!
  expect(headerBlock).not.toMatch(/^x-gateway-/im)
  expect(headerBlock).not.toContain('obsolete syntax')
  expect(headerBlock).not.toContain('folded continuation')
  expect(headerBlock).not.toMatch(/^X-Internal-Route:/m)
  expect(headerBlock).not.toMatch(/^X-Custom-Trust:/m)
  expect(headerBlock).toMatch(/^X-Keep-Me: hello\r?$/m)
  expect(msg.raw).toContain(`Body ${marker}`)
  await gw.waitForLog('inbound', /\[gateway-header-firewall\] stripped 6 forbidden header name\(s\) from Internet mail/)
})
