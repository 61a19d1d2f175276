// Unit tests for gateway-submission-auth.ini: defaults, the shipped file, [peer.<name>]
// sections, the tls.ini prerequisites of pinning, and every ConfigError an operator can cause.
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../config/paths'
import { checkTlsForPeers, loadSubmissionConfig } from './config'
import { iniFiles } from '../../test/helpers/config-errors'

const { dir, load, errorOf } = iniFiles('submission-config', loadSubmissionConfig, 's')
const FP = 'AB'.repeat(32)
const FP_COLON = FP.match(/../g)!.join(':')

describe('loadSubmissionConfig', () => {
  it('has safe defaults when the file is missing, and the shipped file keeps them', () => {
    const missing = loadSubmissionConfig(path.join(dir, 'absent.ini'))
    expect(missing).toMatchObject({
      usersFile: 'smtp-users',
      scopesFile: 'sender-scopes',
      maxFailures: 3,
      failureDelayMs: 1000,
      senderAction: 'reject',
      lockout: { maxPerIp: 10, maxPerUser: 10, windowSeconds: 900 },
    })
    expect(missing.peers.size).toBe(0)
    const shipped = loadSubmissionConfig(path.join(GATEWAY_ROOT, 'outbound', 'config', 'gateway-submission-auth.ini'))
    expect({ ...shipped, peers: shipped.peers.size }).toEqual({ ...missing, peers: 0 })
  })

  it('reads the sender action, lockout limits and peers', () => {
    const cfg = load(`[sender]\naction=monitor\n[lockout]\nmax_failures_per_ip=0\nwindow_seconds=60\n[peer.mx1]\nfingerprint=${FP_COLON.toLowerCase()}\nmay_send=example.com, <>\n[peer.app-2]\nfingerprint=${'CD'.repeat(32)}\nmay_send[]=app@example.com\nmay_send[]=alerts@example.com\n`)
    expect(cfg.senderAction).toBe('monitor')
    expect(cfg.lockout).toEqual({ maxPerIp: 0, maxPerUser: 10, windowSeconds: 60 })
    expect(cfg.peers.peers.map((p) => [p.name, p.fingerprint, p.scope.toString()])).toEqual([
      ['mx1', FP, 'example.com, <>'],
      ['app-2', 'CD'.repeat(32), 'app@example.com, alerts@example.com'],
    ])
  })

  it.each([
    ['[sender]\naction=quarantine\n', /s\d+\.ini:2: \[sender\] action: "quarantine" is not one of: reject, monitor/],
    ['[lockout]\nwindow_seconds=0\n', /:2: \[lockout\] window_seconds: 0 is below the minimum 1/],
    ['[lockout]\nmax_per_ip=3\n', /:2: \[lockout\] max_per_ip: unknown key/],
    ['[peers]\nmx1=AB\n', /\[peers\]: a client certificate is a section named \[peer\.<name>\]/],
    ['[peer.mx1]\nmay_send=example.com\n', /\[peer\.mx1\] fingerprint: is required/],
    ['[peer.mx1]\nfingerprint=AB:CD\nmay_send=example.com\n', /:2: \[peer\.mx1\] fingerprint: is not a SHA-256 fingerprint/],
    [`[peer.mx1]\nfingerprint=${FP}\n`, /\[peer\.mx1\] may_send: is required/],
    [`[peer.mx1]\nfingerprint=${FP}\nmay_send=\n`, /:3: \[peer\.mx1\] may_send: must name at least one/],
    [`[peer.mx1]\nfingerprint=${FP}\nmay_send=alerts@\n`, /:3: \[peer\.mx1\] may_send: "alerts@" is not an address/],
    [`[peer.mx1]\nfingerprint=${FP}\nmay_send=*\ncolour=red\n`, /:4: \[peer\.mx1\] colour: unknown key/],
    [`[peer.b@d]\nfingerprint=${FP}\nmay_send=*\n`, /\[peer\.b@d\]: a peer name has letters/],
    [`[peer.a]\nfingerprint=${FP}\nmay_send=*\n[peer.b]\nfingerprint=${FP_COLON}\nmay_send=*\n`, /:5: \[peer\.b\] fingerprint: already pinned for \[peer\.a\]/],
  ])('refuses %j', (text, message) => {
    expect(errorOf(text)).toMatch(message)
  })
})

describe('checkTlsForPeers', () => {
  const tlsFile = path.join(dir, 'tls.ini')
  it('accepts Haraka\'s defaults (request a certificate, do not reject unknown issuers)', () => {
    expect(() => checkTlsForPeers({ requestCert: true, rejectUnauthorized: false, requireAuthorized: [] }, tlsFile)).not.toThrow()
    expect(() => checkTlsForPeers(undefined, tlsFile)).not.toThrow()
  })

  it('refuses settings under which pinned self-signed certificates never arrive', () => {
    expect(() => checkTlsForPeers({ requestCert: false }, tlsFile)).toThrow(/tls\.ini: \[main\] requestCert: must be true/)
    expect(() => checkTlsForPeers({ requestCert: true, rejectUnauthorized: true }, tlsFile)).toThrow(/\[main\] rejectUnauthorized: must be false/)
    expect(() => checkTlsForPeers({ requireAuthorized: [587] }, tlsFile)).toThrow(/\[main\] requireAuthorized: must be empty/)
  })
})
