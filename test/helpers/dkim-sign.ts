// Signs test messages with mailauth's DKIM signer (not the verifier under test).
//
// Why signTime is always passed: without it mailauth 4.9.5 reads the clock twice,
// once for the t= it signs and once for the t= it writes (Math.round of each), so a
// signature made across a half-second boundary carries a t= one second later than
// the one signed and fails everywhere (about 1 in 1,000 in the suite; it looked
// like a flaky gateway).

import { dkimSign } from 'mailauth/lib/dkim/sign'

/** `message` with one relaxed/relaxed rsa-sha256 DKIM-Signature of `domain` on top. */
export async function dkimSigned(message: string, key: { domain: string; selector: string; privateKey: string }): Promise<string> {
  const { signatures, errors } = await dkimSign(message, {
    signTime: new Date(),
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  })
  if (errors.length) throw new Error(`DKIM signing failed: ${JSON.stringify(errors)}`)
  return signatures + message
}
