// gateway-dkim-unsigned over real SMTP with the shipped inbound plugin list: mail
// without a DKIM-Signature field is not read by haraka-plugin-dkim (Haraka logs the
// skip at DEBUG) and is delivered with dkim=none exactly as before; mail with one,
// even one that cannot verify, still goes through the plugin.

import { expect, it } from 'vitest'

import { delivered, gatewayWithSink, sendOne } from './helpers/fixtures'

const { gw, sink } = gatewayWithSink({ files: { 'inbound/config/log.ini': '[main]\nlevel=debug\n' } })

/** The Authentication-Results field the gateway wrote (unfolded). */
function authResults(raw: string): string {
  const header = raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ')
  return header.match(/^Authentication-Results: (.*)$/m)?.[1] ?? ''
}

/** Haraka's DEBUG line for a plugin skipped through transaction.notes.skip_plugins. */
const SKIPPED = /skipping dkim_data_post by request in notes/
const skips = () => gw.log('inbound').split('\n').filter((line) => SKIPPED.test(line)).length

it('skips the verifier for unsigned mail (dkim=none, as before) and runs it for signed mail', async () => {
  const unsigned = await sendOne(gw, { from: 'x@sender.test', to: ['bob@example.com'] })
  expect(unsigned.end?.code).toBe(250)
  const plain = await delivered(sink, unsigned.marker)
  expect(authResults(plain.raw)).toMatch(/\bdkim=none\b/)
  await gw.waitForLog('inbound', SKIPPED)
  expect(skips()).toBe(1)

  // a signature the plugin must look at (its key is not in DNS: it cannot pass)
  const signed = await sendOne(gw, {
    from: 'x@sender.test',
    to: ['bob@example.com'],
    headers: ['DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.test; s=sel; h=from:subject; bh=AAAA; b=AAAA'],
  })
  expect(signed.end?.code).toBe(250)
  const got = await delivered(sink, signed.marker)
  expect(authResults(got.raw)).toMatch(/\bdkim=(?!none)\w+/)
  expect(skips()).toBe(1) // logged before the reply to DATA, long before the delivery
})
