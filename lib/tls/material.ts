// TLS material for STARTTLS. Haraka's tls plugin reads tls_key.pem / tls_cert.pem
// from the instance config folder and, without dhparams.pem, runs a slow
// `openssl dhparam` on first start. So that STARTTLS works out of the box, a
// self-signed certificate and the standard RFC 7919 ffdhe2048 group are written
// when missing. Operators replace the two PEM files with their real certificate.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { ConfigError } from '../config/errors'
import { displayPath } from '../config/paths'

export interface TlsFiles {
  key: string
  cert: string
  dhparam: string
}

export function tlsFiles(configDir: string): TlsFiles {
  return {
    key: path.join(configDir, 'tls_key.pem'),
    cert: path.join(configDir, 'tls_cert.pem'),
    dhparam: path.join(configDir, 'dhparams.pem'),
  }
}

/** Creates whatever is missing; returns what it created (for the log). */
export function ensureTlsMaterial(configDir: string, hostname: string): string[] {
  const files = tlsFiles(configDir)
  const created: string[] = []
  const haveKey = fs.existsSync(files.key)
  const haveCert = fs.existsSync(files.cert)
  if (haveKey !== haveCert) {
    const missing = haveKey ? files.cert : files.key
    throw new ConfigError(displayPath(missing), '', 'is missing while its partner exists: provide both tls_key.pem and tls_cert.pem, or neither to get a self-signed pair')
  }
  if (!haveKey) {
    const cn = hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost'
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-keyout', files.key, '-out', files.cert])
    fs.chmodSync(files.key, 0o600)
    created.push(files.key, files.cert)
  }
  if (!fs.existsSync(files.dhparam)) {
    openssl(['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'dh_param:ffdhe2048', '-out', files.dhparam])
    created.push(files.dhparam)
  }
  return created
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer }
    const why = e.code === 'ENOENT' ? 'openssl is not installed (apt-get install openssl)' : (e.stderr?.toString().trim() ?? e.message)
    throw new ConfigError('TLS', '', `cannot create a self-signed certificate: ${why}`)
  }
}
