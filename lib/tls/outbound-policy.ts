// Per-domain TLS policy for mail leaving by MX. Without a policy Haraka uses
// STARTTLS whenever the MX offers it, without verifying the certificate
// (opportunistic: protects against eavesdropping, not against an active attacker).
// For the domains listed here TLS is required: Haraka's forced-TLS path
// (outbound/hmail.js) then never sends in clear when the MX offers no STARTTLS,
// verifies the certificate (chain and MX host name), and otherwise temp-fails, so
// the mail waits in the queue. This module holds the policy; the
// gateway-tls-policy plugin plugs it into Haraka.

import { X509Certificate } from 'node:crypto'
import { rootCertificates } from 'node:tls'

export class TlsPolicy {
  private readonly required: ReadonlySet<string>

  constructor(domains: readonly string[]) {
    this.required = new Set(domains.map((d) => d.toLowerCase().replace(/\.$/, '')))
  }

  /** Exact domain match, case-insensitive (a subdomain needs its own entry). */
  requiresTls(domain: string): boolean {
    return this.required.has(domain.toLowerCase().replace(/\.$/, ''))
  }

  get domains(): string[] {
    return [...this.required].sort()
  }
}

/** The certificates of a PEM bundle; throws a plain message when there is none or one is broken. */
export function parsePemBundle(text: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) throw new Error('contains no PEM certificate')
  for (const [i, pem] of blocks.entries()) {
    try {
      new X509Certificate(pem)
    } catch (err) {
      throw new Error(`certificate ${i + 1} is not valid: ${(err as Error).message}`)
    }
  }
  return blocks
}

/**
 * The trust store for verifying required-TLS hosts: the system's root CAs plus the
 * configured ones (Node's `ca` option replaces the defaults, so both are listed).
 */
export function trustStore(extra: readonly string[]): string[] {
  return [...rootCertificates, ...extra]
}
