// The X-Gateway-Org header: what inbound knew about a message (record id, node,
// time, SCL, SPF/DKIM/DMARC results, every check's decision), in one line signed
// with HMAC-SHA256 so outbound can trust it when an internal server relays the
// message back out. Pure functions: writing, strict parsing, signing, verifying.
//
//   X-Gateway-Org: v=1; kid=K; id=I; node=N; t=T; mid=M; scl=S; auth=A; checks=C; sig=G
//
// - every value is built from [A-Za-z0-9_.-] only; anything else is written as
//   %HH (UTF-8 bytes, upper-case hex), so a value never contains ; , : = or
//   white space and parsing what was written gives back exactly what was meant;
// - mid binds the header to the message: the first 22 base64url characters of
//   SHA-256 over the message's Message-ID (white space removed): copied onto
//   another message it no longer matches;
// - sig = base64url(HMAC-SHA256(key, "v=1;kid=K;id=I;node=N;t=T;mid=M;scl=S;auth=A;checks=C")),
//   the fields in this order, without blanks, no padding.
// Parsing is strict (every field, in this order, once) and total: bad input is a
// typed failure, never an exception; names like "__proto__" are plain strings here.

import crypto from 'node:crypto'

export const ORG_HEADER = 'X-Gateway-Org'
export const ORG_VERSION = '1'

export type AuthMethod = 'spf' | 'dkim' | 'dmarc'
export const AUTH_METHODS: readonly AuthMethod[] = ['spf', 'dkim', 'dmarc']

export interface OrgAuth {
  readonly method: AuthMethod
  readonly result: string
}

export interface OrgDecision {
  readonly check: string
  readonly result: string
  readonly action: string
}

/** Everything the header says except its signature. */
export interface OrgFields {
  /** The signing key's id. */
  readonly kid: string
  /** The inbound record id (the inbound transaction's uuid). */
  readonly id: string
  /** The gateway node that received the message. */
  readonly node: string
  /** When it was stamped, unix seconds. */
  readonly t: number
  /** Digest of the message's Message-ID (messageIdDigest). */
  readonly mid: string
  /** Spam confidence level 0-9, or null when the message was not scanned. */
  readonly scl: number | null
  readonly auth: readonly OrgAuth[]
  readonly checks: readonly OrgDecision[]
}

export interface SigningKey {
  readonly id: string
  readonly secret: Buffer
}

/** How many decisions one header carries at most (a message sees a few; this bounds the line). */
export const MAX_CHECKS = 64
const MAX_TOKEN = 200
const KID = /^[A-Za-z0-9_-]{1,64}$/
const MID = /^[A-Za-z0-9_-]{22}$/
const SIG = /^[A-Za-z0-9_-]{43}$/
const UNIX_SECONDS = /^(0|[1-9][0-9]{0,11})$/
const ENCODED = /^(?:[A-Za-z0-9_.-]|%[0-9A-F]{2})+$/
const FIELD_ORDER = ['v', 'kid', 'id', 'node', 't', 'mid', 'scl', 'auth', 'checks', 'sig'] as const

const SAFE_TOKEN = /^[A-Za-z0-9_.-]*$/

/** A value in the header's safe charset: other characters as %HH of their UTF-8 bytes. */
export function encodeToken(s: string): string {
  // most values (ids, node names, check names and results) are already in the charset
  if (SAFE_TOKEN.test(s)) return s
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out += /[A-Za-z0-9_.-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** The value an encoded token stands for; undefined unless it is exactly what encodeToken writes. */
export function decodeToken(token: string): string | undefined {
  if (token.length > MAX_TOKEN || !ENCODED.test(token)) return undefined
  const bytes: number[] = []
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '%') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16))
      i += 2
    } else bytes.push(token.charCodeAt(i))
  }
  let text: string
  try {
    text = UTF8.decode(Uint8Array.from(bytes))
  } catch {
    return undefined
  }
  // one spelling per value: "%41" for "A" would verify as something else than it reads
  return encodeToken(text) === token ? text : undefined
}

/** The Message-ID values of a message, as the header binds them: white space removed, several joined by ",". */
export function normalizeMessageId(values: readonly string[]): string {
  return values.map((v) => v.replace(/\s+/g, '')).join(',')
}

/** The `mid` field for a message with these Message-ID values. */
export function messageIdDigest(values: readonly string[]): string {
  // one-shot crypto.hash: no Hash object per message (issue 12)
  return crypto.hash('sha256', normalizeMessageId(values), 'base64url').slice(0, 22)
}

function formatAuth(auth: readonly OrgAuth[]): string {
  return auth.map((a) => `${a.method}:${encodeToken(a.result)}`).join(',')
}

function formatChecks(checks: readonly OrgDecision[]): string {
  return checks.map((d) => [d.check, d.result, d.action].map(encodeToken).join(':')).join(',')
}

/** The signed text: every field but sig, in the canonical order, "name=value" joined by ";". */
export function canonicalText(f: OrgFields): string {
  return [
    `v=${ORG_VERSION}`,
    `kid=${f.kid}`,
    `id=${encodeToken(f.id)}`,
    `node=${encodeToken(f.node)}`,
    `t=${f.t}`,
    `mid=${f.mid}`,
    `scl=${f.scl === null ? '-' : f.scl}`,
    `auth=${formatAuth(f.auth)}`,
    `checks=${formatChecks(f.checks)}`,
  ].join(';')
}

function hmac(secret: Buffer, text: string): Buffer {
  return crypto.createHmac('sha256', secret).update(text, 'utf8').digest()
}

/** What a writer may put in: refused (thrown) when it could not be written so that it parses back the same. */
function checkWritable(f: OrgFields): void {
  if (!KID.test(f.kid)) throw new Error('key id outside [A-Za-z0-9_-]{1,64}')
  if (!MID.test(f.mid)) throw new Error('mid is not a messageIdDigest')
  if (!Number.isSafeInteger(f.t) || !UNIX_SECONDS.test(String(f.t))) throw new Error(`t=${f.t} is not unix seconds`)
  if (f.scl !== null && !(Number.isInteger(f.scl) && f.scl >= 0 && f.scl <= 9)) throw new Error(`scl=${f.scl} is not 0-9`)
  if (f.checks.length > MAX_CHECKS) throw new Error(`more than ${MAX_CHECKS} decisions`)
  const tokens = [f.id, f.node, ...f.auth.map((a) => a.result), ...f.checks.flatMap((d) => [d.check, d.result, d.action])]
  if (tokens.some((t) => t === '' || encodeToken(t).length > MAX_TOKEN)) throw new Error(`an empty value or one longer than ${MAX_TOKEN} characters once encoded`)
  if (f.auth.some((a) => !AUTH_METHODS.includes(a.method))) throw new Error('unknown auth method')
}

/** The header's value (without "X-Gateway-Org: "), signed with `key`. Throws on fields that cannot be written exactly. */
export function formatOrgHeader(fields: Omit<OrgFields, 'kid'>, key: SigningKey): string {
  const f: OrgFields = { ...fields, kid: key.id }
  checkWritable(f)
  const text = canonicalText(f)
  const sig = hmac(key.secret, text).toString('base64url')
  return `${text.split(';').join('; ')}; sig=${sig}`
}

export type ParsedOrgHeader = { readonly ok: true; readonly fields: OrgFields; readonly sig: Buffer } | { readonly ok: false; readonly problem: string }

const bad = (problem: string): ParsedOrgHeader => ({ ok: false, problem })

function parseList<T>(value: string, item: (s: string) => T | undefined, max: number): T[] | undefined {
  if (value === '') return []
  const parts = value.split(',')
  if (parts.length > max) return undefined
  const out: T[] = []
  for (const p of parts) {
    const v = item(p)
    if (v === undefined) return undefined
    out.push(v)
  }
  return out
}

function parseAuth(s: string): OrgAuth | undefined {
  const [method, result, ...rest] = s.split(':')
  if (rest.length > 0 || result === undefined || !AUTH_METHODS.includes(method as AuthMethod)) return undefined
  const r = decodeToken(result)
  return r === undefined ? undefined : { method: method as AuthMethod, result: r }
}

function parseDecision(s: string): OrgDecision | undefined {
  const parts = s.split(':')
  if (parts.length !== 3) return undefined
  const [check, result, action] = parts.map(decodeToken)
  if (check === undefined || result === undefined || action === undefined) return undefined
  return { check, result, action }
}

/** Reads a header value (as found in the message, possibly folded). Never throws. */
export function parseOrgHeader(raw: string): ParsedOrgHeader {
  try {
    return parseStrict(raw)
  } catch {
    return bad('unreadable') // defence in depth: the parser above is total, this keeps it so
  }
}

function parseStrict(raw: string): ParsedOrgHeader {
  if (typeof raw !== 'string' || raw.length > 16_384) return bad('not a header value of a sane length')
  // unfold (CRLF before blanks), then the blanks after each ";" are the only white space allowed
  const value = raw.replace(/\r?\n(?=[ \t])/g, '').trim()
  if (/[\r\n]/.test(value)) return bad('line break inside the value')
  const parts = value.split(';').map((p) => p.replace(/^[ \t]+|[ \t]+$/g, ''))
  if (parts.length !== FIELD_ORDER.length) return bad(`${parts.length} fields instead of ${FIELD_ORDER.length}`)
  const values: string[] = []
  for (let i = 0; i < FIELD_ORDER.length; i++) {
    const part = parts[i]!
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    if (name !== FIELD_ORDER[i]) return bad(`field ${i + 1} is "${name.slice(0, 20)}", expected ${FIELD_ORDER[i]}`)
    const v = part.slice(eq + 1)
    if (/[\s;=]/.test(v)) return bad(`${name}: white space or a separator inside the value`)
    values.push(v)
  }
  const [v, kid, id, node, t, mid, scl, auth, checks, sig] = values as [string, string, string, string, string, string, string, string, string, string]
  if (v !== ORG_VERSION) return bad(`unsupported version v=${v.slice(0, 10)}`)
  if (!KID.test(kid)) return bad('kid: not a key id')
  const idValue = decodeToken(id)
  if (idValue === undefined) return bad('id: not a valid token')
  const nodeValue = decodeToken(node)
  if (nodeValue === undefined) return bad('node: not a valid token')
  if (!UNIX_SECONDS.test(t)) return bad('t: not unix seconds')
  if (!MID.test(mid)) return bad('mid: not a Message-ID digest')
  if (!/^([0-9]|-)$/.test(scl)) return bad('scl: not 0-9 or -')
  const authList = parseList(auth, parseAuth, AUTH_METHODS.length)
  if (!authList) return bad('auth: not a list of method:result')
  if (new Set(authList.map((a) => a.method)).size !== authList.length) return bad('auth: a method twice')
  const checkList = parseList(checks, parseDecision, MAX_CHECKS)
  if (!checkList) return bad('checks: not a list of check:result:action')
  if (!SIG.test(sig)) return bad('sig: not a base64url HMAC-SHA256')
  const sigBytes = Buffer.from(sig, 'base64url')
  if (sigBytes.length !== 32 || sigBytes.toString('base64url') !== sig) return bad('sig: not a canonical base64url HMAC-SHA256')
  const fields: OrgFields = {
    kid,
    id: idValue,
    node: nodeValue,
    t: Number(t),
    mid,
    scl: scl === '-' ? null : Number(scl),
    auth: authList,
    checks: checkList,
  }
  return { ok: true, fields, sig: sigBytes }
}

/** What the verifier knows about a key id. */
export type KeyLookup = { readonly state: 'valid'; readonly secret: Buffer } | { readonly state: 'retired'; readonly retiredAt: number } | { readonly state: 'unknown' }

export type OrgFailure = 'malformed' | 'unknown_key' | 'retired_key' | 'bad_signature' | 'message_id_mismatch' | 'stale' | 'future_timestamp'

export type OrgVerification = { readonly ok: true; readonly fields: OrgFields } | { readonly ok: false; readonly failure: OrgFailure; readonly detail: string }

export interface VerifyOptions {
  /** The Message-ID values of the message carrying the header. */
  readonly messageIds: readonly string[]
  readonly keyFor: (kid: string) => KeyLookup
  /** Now, ms since the epoch. */
  readonly now: number
  /** Oldest header still trusted, seconds. */
  readonly maxAgeSeconds: number
  /** How far in the future a header may be dated (clock skew between nodes), seconds. */
  readonly maxFutureSeconds?: number
}

export const MAX_FUTURE_SECONDS = 300

/** Parses and verifies one header value. The signature is checked before anything it covers is believed. */
export function verifyOrgHeader(raw: string, opts: VerifyOptions): OrgVerification {
  const parsed = parseOrgHeader(raw)
  if (!parsed.ok) return { ok: false, failure: 'malformed', detail: parsed.problem }
  const f = parsed.fields
  const key = opts.keyFor(f.kid)
  if (key.state === 'unknown') return { ok: false, failure: 'unknown_key', detail: `key ${f.kid} is not in the key file` }
  if (key.state === 'retired') return { ok: false, failure: 'retired_key', detail: `key ${f.kid} retired at ${new Date(key.retiredAt).toISOString()}` }
  const expected = hmac(key.secret, canonicalText(f))
  if (!crypto.timingSafeEqual(expected, parsed.sig)) return { ok: false, failure: 'bad_signature', detail: `signature does not verify with key ${f.kid}` }
  if (messageIdDigest(opts.messageIds) !== f.mid) return { ok: false, failure: 'message_id_mismatch', detail: `header of record ${f.id} belongs to another Message-ID` }
  const nowSeconds = Math.floor(opts.now / 1000)
  if (f.t > nowSeconds + (opts.maxFutureSeconds ?? MAX_FUTURE_SECONDS)) return { ok: false, failure: 'future_timestamp', detail: `t=${f.t} is ${f.t - nowSeconds} s in the future` }
  if (nowSeconds - f.t > opts.maxAgeSeconds) return { ok: false, failure: 'stale', detail: `t=${f.t} is ${nowSeconds - f.t} s old (max_age ${opts.maxAgeSeconds} s)` }
  return { ok: true, fields: f }
}
