// The signing helper's signatures verify (with mailauth's own verifier) even when
// the clock moves between mailauth's reads of it: Date.now here steps 300 ms per
// call from x.100 s (x.400, x.700, ...), so two reads round to different seconds, as happens for real
// when signing straddles a half second.

import { generateKeyPairSync } from 'node:crypto'

import { dkimVerify } from 'mailauth/lib/dkim/verify'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { dkimSigned } from './dkim-sign'
import { testMessage } from './gateway'

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
})
const record = `v=DKIM1; k=rsa; p=${publicKey.toString('base64')}`

async function verify(signed: string): Promise<string[]> {
  const { results } = await dkimVerify(signed, {
    resolver: async (name, type) => {
      if (type === 'TXT' && name === 'sel1._domainkey.signed.test') return [[record]]
      throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' })
    },
  })
  return results.map((r) => r.status.result)
}

describe('dkimSigned', () => {
  afterEach(() => vi.restoreAllMocks())

  it('signs what it writes when the clock moves to the next second between reads', async () => {
    const { text } = testMessage({ from: 'a@signed.test', to: 'user@example.com' })
    let now = Math.floor(Date.now() / 1000) * 1000 + 100
    vi.spyOn(Date, 'now').mockImplementation(() => (now += 300))
    const signed = await dkimSigned(text, { domain: 'signed.test', selector: 'sel1', privateKey })
    vi.restoreAllMocks()
    expect(await verify(signed)).toEqual(['pass'])
  })
})
