// Client-certificate authentication for internal mail servers (mutual TLS): a
// certificate is trusted by its pinned SHA-256 fingerprint, not by who signed it,
// so a self-signed certificate made on the mail server is enough and no CA can
// issue a certificate that passes. TLS itself proves the client holds the key
// (its CertificateVerify signature is checked whether or not the chain is trusted).

import crypto from 'node:crypto'

import type { SenderScope } from './sender-scope'

export interface Peer {
  /** From the section name [peer.<name>]; logged and shown in Received. */
  readonly name: string
  /** 64 upper-case hex digits. */
  readonly fingerprint: string
  readonly scope: SenderScope
}

/** What Node's getPeerCertificate() returns (an empty object when the client sent none). */
export interface PeerCertificate {
  raw?: Buffer
  fingerprint256?: string
  valid_from?: string
  valid_to?: string
}

export type PeerMatch =
  | { kind: 'none' }
  | { kind: 'unknown'; fingerprint: string }
  | { kind: 'expired'; fingerprint: string; peer: Peer }
  | { kind: 'peer'; fingerprint: string; peer: Peer }

/** "AB:CD:..." or "abcd..." (as openssl and Node print it) to 64 upper-case hex digits. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha-?256\s*(fingerprint)?\s*[=:]?\s*/i, '').replace(/[:\s]/g, '').toUpperCase()
  return /^[0-9A-F]{64}$/.test(hex) ? hex : undefined
}

/** The SHA-256 fingerprint of the certificate's DER bytes, as normalizeFingerprint writes it. */
export function certificateFingerprint(cert: PeerCertificate | undefined): string | undefined {
  if (!cert) return undefined
  if (cert.raw && cert.raw.length > 0) return crypto.createHash('sha256').update(cert.raw).digest('hex').toUpperCase()
  return cert.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : undefined
}

/** A fingerprint in the colon form operators compare with openssl's output. */
export function displayFingerprint(hex: string): string {
  return hex.match(/../g)!.join(':')
}

export class PeerTable {
  private readonly byFingerprint: Map<string, Peer>

  constructor(readonly peers: readonly Peer[]) {
    this.byFingerprint = new Map(peers.map((p) => [p.fingerprint, p]))
  }

  get size(): number {
    return this.peers.length
  }

  /**
   * The pinned peer presenting `cert`, if any. Pinning does not make an expired
   * (or not yet valid) certificate good: the peer then has to AUTH like anyone.
   */
  match(cert: PeerCertificate | undefined, now: Date): PeerMatch {
    const fingerprint = certificateFingerprint(cert)
    if (!fingerprint) return { kind: 'none' }
    const peer = this.byFingerprint.get(fingerprint)
    if (!peer) return { kind: 'unknown', fingerprint }
    const from = Date.parse(cert?.valid_from ?? '')
    const to = Date.parse(cert?.valid_to ?? '')
    if (!(from <= now.getTime() && now.getTime() <= to)) return { kind: 'expired', fingerprint, peer }
    return { kind: 'peer', fingerprint, peer }
  }
}
