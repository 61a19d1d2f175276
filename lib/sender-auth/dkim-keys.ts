// DKIM signing keys as the outbound instance uses them (haraka-plugin-dkim):
// one folder per signing domain, <outbound>/config/dkim/<domain>/, holding the
// PEM private key in `private` and the selector in `selector`; and the DNS TXT
// record (RFC 6376 3.6.1) that publishes the public key.

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { parseDomainName } from '../address/domain'

/** RFC 8301: at least 1024 bits; 2048 is what receivers expect today. */
export const KEY_BITS: readonly number[] = [1024, 2048, 3072, 4096]
export const DEFAULT_BITS = 2048

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
/** One or more DNS labels (RFC 6376 3.1 allows dotted selectors). */
const SELECTOR = new RegExp(`^(?=.{1,63}$)${LABEL}(?:\\.${LABEL})*$`)

/** The signing domain (it also becomes a folder name, so nothing but a host name gets through), or a plain message. */
export const checkDomain = parseDomainName

export function checkSelector(selector: string): string {
  const s = selector.trim().toLowerCase()
  if (!SELECTOR.test(s)) throw new Error(`"${selector}" is not a valid selector (letters, digits, hyphens; dots between labels)`)
  return s
}

/** A date-based selector, e.g. gw202611: a new one per rotation, so the old key can stay published meanwhile. */
export function defaultSelector(now = new Date()): string {
  return `gw${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`
}

export interface DkimKey {
  /** PKCS#8 PEM, as haraka-plugin-dkim hands it to crypto.sign. */
  readonly privateKeyPem: string
  /** Base64 SubjectPublicKeyInfo: the p= of the DNS record. */
  readonly publicKeyBase64: string
}

export function generateKey(bits: number): DkimKey {
  if (!KEY_BITS.includes(bits)) throw new Error(`${bits} bits is not supported (use one of ${KEY_BITS.join(', ')})`)
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  return { privateKeyPem: privateKey, publicKeyBase64: publicKey.toString('base64') }
}

/** The public half of a PEM private key (PKCS#1 or PKCS#8), base64 SPKI. */
export function publicKeyOf(privateKeyPem: string): string {
  const der = crypto.createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' })
  return der.toString('base64')
}

/** `<selector>._domainkey.<domain> IN TXT "v=DKIM1; k=rsa; p=..."`, in strings of at most 255 characters (RFC 1035 3.3.14). */
export function txtRecord(selector: string, domain: string, publicKeyBase64: string): string {
  const value = `v=DKIM1; k=rsa; p=${publicKeyBase64}`
  const strings: string[] = []
  for (let i = 0; i < value.length; i += 255) strings.push(`"${value.slice(i, i + 255)}"`)
  return `${selector}._domainkey.${domain} IN TXT ${strings.join(' ')}`
}

export interface KeyFiles {
  readonly dir: string
  readonly privateFile: string
  readonly selectorFile: string
}

/** Where haraka-plugin-dkim looks for a domain's key: $HARAKA/config/dkim/<domain>/. */
export function keyFiles(instanceDir: string, domain: string): KeyFiles {
  const dir = path.join(instanceDir, 'config', 'dkim', domain)
  return { dir, privateFile: path.join(dir, 'private'), selectorFile: path.join(dir, 'selector') }
}

/**
 * Writes the key and selector: each to a temporary file, then renamed, so the
 * running instance never reads half a key. The private key is readable by its
 * owner only. Refuses to replace an existing key unless `force`.
 */
export function writeKey(files: KeyFiles, key: DkimKey, selector: string, force: boolean): void {
  if (!force && (fs.existsSync(files.privateFile) || fs.existsSync(files.selectorFile))) {
    throw new KeyExistsError(files.dir)
  }
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 })
  writeAtomic(files.privateFile, key.privateKeyPem, 0o600)
  writeAtomic(files.selectorFile, `${selector}\n`, 0o644)
}

export class KeyExistsError extends Error {
  constructor(readonly dir: string) {
    super(`a DKIM key already exists in ${dir}`)
  }
}

function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(tmp, 'w', mode)
  try {
    fs.writeFileSync(fd, content)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.chmodSync(tmp, mode) // the umask may have narrowed or an older file widened it
  fs.renameSync(tmp, file)
}

/** The selector and public key of the key stored for a domain, or undefined if there is none. */
export function readKey(files: KeyFiles): { selector: string; publicKeyBase64: string } | undefined {
  if (!fs.existsSync(files.privateFile)) return undefined
  const selector = fs.existsSync(files.selectorFile) ? fs.readFileSync(files.selectorFile, 'utf8').trim() : ''
  return { selector, publicKeyBase64: publicKeyOf(fs.readFileSync(files.privateFile, 'utf8')) }
}
