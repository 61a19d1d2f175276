// The files a Redis connection reads besides its URL: the sentinels' own password
// and, for TLS URLs, the CA that verifies the servers and the client certificate
// some servers require (tls-auth-clients). config/gateway.ini [redis] names them;
// the config check reads them once (so a bad file stops startup naming the key),
// and every client (instances, CLI, dashboard, launcher probe) reads them again
// when it is created. Their contents never go into a URL, the environment or a log.

import crypto from 'node:crypto'
import fs from 'node:fs'
import tls from 'node:tls'

import type { ClientBehaviour, TlsMaterial } from './connection-options'

export interface RedisFiles {
  /** [redis] sentinel_password_file */
  readonly sentinelPasswordFile?: string
  /** [redis] tls_ca_file */
  readonly tlsCaFile?: string
  /** [redis] tls_cert_file */
  readonly tlsCertFile?: string
  /** [redis] tls_key_file */
  readonly tlsKeyFile?: string
}

/** The [redis] settings that name files (absolute paths, or '' for none). */
export interface RedisFileSettings {
  readonly sentinel_password_file: string
  readonly tls_ca_file: string
  readonly tls_cert_file: string
  readonly tls_key_file: string
}

/** The files named in [redis] (empty settings left out). */
export function redisFilesOf(redis: RedisFileSettings): RedisFiles {
  const named: [keyof RedisFiles, string][] = [
    ['sentinelPasswordFile', redis.sentinel_password_file],
    ['tlsCaFile', redis.tls_ca_file],
    ['tlsCertFile', redis.tls_cert_file],
    ['tlsKeyFile', redis.tls_key_file],
  ]
  return Object.fromEntries(named.filter(([, file]) => file !== '')) as RedisFiles
}

/** The sentinels' password: the first line of the file. */
export function readSentinelPassword(file: string): string {
  return firstLine(fs.readFileSync(file, 'utf8'))
}

/** The first line of a password file, without surrounding white space. */
export function firstLine(text: string): string {
  return text.split(/\r?\n/)[0]!.trim()
}

/** What the client factory needs from the files: the sentinels' password and the TLS material. */
export function readRedisFiles(files: RedisFiles): Pick<ClientBehaviour, 'sentinelPassword' | 'tls'> {
  const sentinelPassword = files.sentinelPasswordFile ? readSentinelPassword(files.sentinelPasswordFile) : undefined
  const material: { -readonly [K in keyof TlsMaterial]: string } = {}
  if (files.tlsCaFile) material.ca = fs.readFileSync(files.tlsCaFile, 'utf8')
  if (files.tlsCertFile) material.cert = fs.readFileSync(files.tlsCertFile, 'utf8')
  if (files.tlsKeyFile) material.key = fs.readFileSync(files.tlsKeyFile, 'utf8')
  return { ...(sentinelPassword ? { sentinelPassword } : {}), ...(Object.keys(material).length > 0 ? { tls: material } : {}) }
}

/** Throws a short reason (never the file's contents) unless `pem` holds a certificate. */
export function checkCertificate(pem: string): void {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)')
  try {
    new crypto.X509Certificate(pem)
  } catch {
    throw new Error('holds a PEM certificate that cannot be parsed')
  }
}

/** Throws a short reason unless `key` is the private key of the certificate `cert`. */
export function checkKeyPair(cert: string, key: string): void {
  try {
    tls.createSecureContext({ cert, key })
  } catch (err) {
    // OpenSSL's reason ("key values mismatch", "bad decrypt", ...), which names no key material
    const reason = (err as Error).message.replace(/^error:[0-9A-F]+:/i, '')
    throw new Error(`is not the private key of the certificate in tls_cert_file (${reason})`)
  }
}
