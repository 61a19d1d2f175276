// The header firewall over real SMTP: headers only the gateway may set never get
// from the Internet to the internal server, whatever their case or folding.

import { expect, it } from 'vitest'

import { delivered, gatewayWithSink, sendOne } from './helpers/fixtures'

const { gw, sink } = gatewayWithSink({
  files: { 'inbound/config/gateway-header-firewall.ini': '[main]\nstrip[]=X-Custom-Trust\nstrip_prefix[]=X-Internal-\n' },
})

it('strips X-Gateway-* and configured internal headers from Internet mail, keeps the rest', async () => {
  const { end, marker } = await sendOne(gw, {
    from: 'x@sender.test',
    to: ['bob@example.com'],
    headers: ['X-Gateway-SCL: 0', 'X-Gateway-Trusted : obsolete syntax, invisible to Haraka\'s header map', 'x-gateway-checks: spam=clean (accept)', 'X-GATEWAY-Released: yes,', '\tfolded continuation', 'X-Internal-Route: trusted', 'X-Custom-Trust: yes', 'X-Keep-Me: hello'],
  })
  expect(end!.code).toBe(250)
  const msg = await delivered(sink, marker)
  const headerBlock = msg.raw.split('\r\n\r\n')[0]!
  // none from outside; the one X-Gateway-* field left is the signed one gateway-org-stamp writes (test/org-header.test.ts)
  expect(headerBlock.match(/^x-gateway-[^:]*/gim)).toEqual(['X-Gateway-Org'])
  expect(headerBlock).not.toContain('obsolete syntax')
  expect(headerBlock).not.toContain('folded continuation')
  expect(headerBlock).not.toMatch(/^X-Internal-Route:/m)
  expect(headerBlock).not.toMatch(/^X-Custom-Trust:/m)
  expect(headerBlock).toMatch(/^X-Keep-Me: hello\r?$/m)
  expect(msg.raw).toContain(`Body ${marker}`)
  await gw.waitForLog('inbound', /\[gateway-header-firewall\] stripped 6 forbidden header name\(s\) from Internet mail/)
})
