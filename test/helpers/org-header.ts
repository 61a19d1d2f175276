// X-Gateway-Org as an internal server's administrator would implement it from
// the README, independently of lib/org: read the key file, check a header's
// HMAC, and sign headers (what inbound would have written) for outbound tests.

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export interface TestOrgKey {
  id: string
  secret: Buffer
  created: number
  retires: number | null
}

/** The keys of a test gateway (GATEWAY_ROOT = its root, default [org] key_file). */
export function orgKeys(root: string): TestOrgKey[] {
  const data = JSON.parse(fs.readFileSync(path.join(root, 'var', 'org-keys.json'), 'utf8')) as { version: number; keys: { id: string; secret: string; created: number; retires: number | null }[] }
  if (data.version !== 1) throw new Error(`key file version ${data.version}`)
  return data.keys.map((k) => ({ ...k, secret: Buffer.from(k.secret, 'base64') }))
}

/** The key that signs: the newest without "retires". */
export function signingKey(root: string): TestOrgKey {
  const keys = orgKeys(root).filter((k) => k.retires === null)
  return keys.sort((a, b) => b.created - a.created)[0]!
}

const midOf = (messageId: string) => crypto.createHash('sha256').update(messageId.replace(/\s+/g, '')).digest('base64url').slice(0, 22)

export interface OrgHeaderInput {
  id: string
  node?: string
  /** unix seconds; default now */
  t?: number
  messageId: string
  scl?: number | null
  /** as written, e.g. "spf:pass,dmarc:fail" */
  auth?: string
  /** as written, e.g. "virus:infected:quarantine" */
  checks?: string
}

/** A header value as inbound writes it, signed with `key` (kid may be overridden to test unknown ids). */
export function signOrgHeader(key: { id: string; secret: Buffer }, f: OrgHeaderInput, kid = key.id): string {
  const parts = [
    'v=1',
    `kid=${kid}`,
    `id=${f.id}`,
    `node=${f.node ?? 'gw-test-a'}`,
    `t=${f.t ?? Math.floor(Date.now() / 1000)}`,
    `mid=${midOf(f.messageId)}`,
    `scl=${f.scl === undefined || f.scl === null ? '-' : f.scl}`,
    `auth=${f.auth ?? ''}`,
    `checks=${f.checks ?? ''}`,
  ]
  const sig = crypto.createHmac('sha256', key.secret).update(parts.join(';')).digest('base64url')
  return `${parts.join('; ')}; sig=${sig}`
}

/** Checks a header value (unfolded) against the keys; returns its fields by name, or throws saying why. */
export function checkOrgHeader(value: string, messageId: string, keys: TestOrgKey[]): Record<string, string> {
  const parts = value.split(/;\s*/)
  const fields = new Map(parts.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const))
  const names = [...fields.keys()]
  if (names.join(',') !== 'v,kid,id,node,t,mid,scl,auth,checks,sig') throw new Error(`fields ${names.join(',')}`)
  const key = keys.find((k) => k.id === fields.get('kid'))
  if (!key) throw new Error(`unknown key ${fields.get('kid')}`)
  const signed = parts.slice(0, -1).join(';')
  const expected = crypto.createHmac('sha256', key.secret).update(signed).digest()
  const given = Buffer.from(fields.get('sig')!, 'base64url')
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw new Error('bad signature')
  if (fields.get('mid') !== midOf(messageId)) throw new Error('other Message-ID')
  return Object.fromEntries(fields)
}
