// The X-Gateway-Org signing keys on disk: one JSON file, owner-only (0600),
// shared by both instances of a node and copied by the operator to every other
// node (a header stamped on one node's inbound is verified by whichever node's
// outbound relays the message later):
//
//   { "version": 1, "keys": [{ "id": "k…", "secret": "<base64, 32 bytes>", "created": <ms>, "retires": <ms> | null }] }
//
// The newest key without `retires` signs; a key whose `retires` lies in the
// future still verifies; past it, it is refused. Writes are atomic: the first
// start creates the file by linking a finished temporary file into place (two
// instances starting at once: the second finds the first one's file and uses
// it); `gateway org-key rotate` replaces it by rename.

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { ConfigError } from '../config/errors'
import { displayPath } from '../config/paths'

export const KEY_FILE_VERSION = 1
const SECRET_BYTES = 32
const KEY_ID = /^k[A-Za-z0-9_-]{6,40}$/
/** Keys retired longer ago than this are dropped on the next rotation. */
export const DROP_RETIRED_AFTER_MS = 30 * 86_400_000

export interface OrgKey {
  readonly id: string
  /** Key material: never logged, never printed. */
  readonly secret: Buffer
  /** ms since the epoch. */
  readonly created: number
  /** ms since the epoch after which the key no longer verifies; null: the key may sign. */
  readonly retires: number | null
}

export type KeyState = 'signing' | 'verifying' | 'retired'

/** A fresh key (id and secret from the system's CSPRNG). */
export function generateKey(now: number): OrgKey {
  return Object.freeze({ id: `k${crypto.randomBytes(9).toString('base64url')}`, secret: crypto.randomBytes(SECRET_BYTES), created: now, retires: null })
}

/** The key that signs: the newest one without a retirement time. */
export function signingKeyOf(keys: readonly OrgKey[]): OrgKey | undefined {
  let best: OrgKey | undefined
  for (const k of keys) if (k.retires === null && (!best || k.created > best.created)) best = k
  return best
}

export function keyState(key: OrgKey, keys: readonly OrgKey[], now: number): KeyState {
  if (key.retires !== null) return now < key.retires ? 'verifying' : 'retired'
  return signingKeyOf(keys) === key ? 'signing' : 'verifying'
}

/**
 * A rotation: a new signing key; the keys that could sign retire `graceMs` from
 * now (still verifying meanwhile, for mail stamped before); keys retired more
 * than DROP_RETIRED_AFTER_MS ago are dropped.
 */
export function rotateKeys(keys: readonly OrgKey[], now: number, graceMs: number): OrgKey[] {
  const kept = keys
    .filter((k) => k.retires === null || now - k.retires <= DROP_RETIRED_AFTER_MS)
    .map((k) => (k.retires === null ? Object.freeze({ ...k, retires: now + graceMs }) : k))
  return [...kept, generateKey(now)]
}

/** The file's text. */
export function serializeKeys(keys: readonly OrgKey[]): string {
  const out = { version: KEY_FILE_VERSION, keys: keys.map((k) => ({ id: k.id, secret: k.secret.toString('base64'), created: k.created, retires: k.retires })) }
  return `${JSON.stringify(out, null, 2)}\n`
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** The keys in a file's text; throws a plain Error saying what is wrong (never quoting a secret). */
export function parseKeys(text: string): OrgKey[] {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new Error('is not valid JSON')
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('is not a JSON object')
  const { version, keys } = data as { version?: unknown; keys?: unknown }
  if (version !== KEY_FILE_VERSION) throw new Error(`has version ${JSON.stringify(version) ?? 'none'}; this gateway reads version ${KEY_FILE_VERSION}`)
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('has no keys')
  const ids = new Set<string>()
  const out = keys.map((k: unknown, i: number): OrgKey => {
    const at = `keys[${i}]`
    if (typeof k !== 'object' || k === null || Array.isArray(k)) throw new Error(`${at} is not an object`)
    const { id, secret, created, retires } = k as Record<string, unknown>
    if (typeof id !== 'string' || !KEY_ID.test(id)) throw new Error(`${at}.id is not a key id (k followed by 6-40 of A-Z a-z 0-9 _ -)`)
    if (ids.has(id)) throw new Error(`${at}.id ${id} appears twice`)
    ids.add(id)
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'base64') : undefined
    if (!bytes || bytes.length !== SECRET_BYTES || bytes.toString('base64') !== secret) throw new Error(`${at}.secret (key ${id}) is not ${SECRET_BYTES} bytes in base64`)
    if (!isTime(created)) throw new Error(`${at}.created (key ${id}) is not a time in ms`)
    if (retires !== null && !isTime(retires)) throw new Error(`${at}.retires (key ${id}) is neither null nor a time in ms`)
    return Object.freeze({ id, secret: bytes, created, retires })
  })
  if (!signingKeyOf(out)) throw new Error('has no signing key (every key has "retires" set): run gateway org-key rotate')
  return out
}

export interface KeyFileVersion {
  readonly keys: readonly OrgKey[]
  /** What identifies this version of the file (stampOf). */
  readonly stamp: string
}

/** Any change (a rotation's rename, an edit, a chmod) gives another stamp. */
export const stampOf = (st: fs.Stats) => `${st.ino}:${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.mode}`

/** Reads and checks the key file; every problem is one ConfigError naming the file. */
export function readKeyFile(file: string): KeyFileVersion {
  const where = displayPath(file)
  const fail = (problem: string): never => {
    throw new ConfigError(where, '', `X-Gateway-Org key file ${problem}`)
  }
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return fail('is missing (it is created on first start; copy it from another node of this gateway, or run: gateway org-key rotate)')
    if (code === 'ELOOP') return fail('is a symbolic link: use the file itself')
    return fail(`cannot be read (${code ?? 'error'})`)
  }
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile()) return fail('is not a regular file')
    if ((st.mode & 0o077) !== 0) return fail(`is accessible to group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): run chmod 600 ${file}`)
    const text = fs.readFileSync(fd, 'utf8')
    try {
      return { keys: parseKeys(text), stamp: stampOf(st) }
    } catch (err) {
      return fail((err as Error).message)
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** Writes `text` owner-only to a new temporary file beside `file`, synced; returns its name. */
function writeTemp(file: string, text: string): string {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`)
  const fd = fs.openSync(tmp, 'wx', 0o600)
  try {
    fs.writeSync(fd, text)
    fs.fchmodSync(fd, 0o600) // the umask may have narrowed, never widened, it: be exact
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  return tmp
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // best effort: some file systems refuse fsync on a directory
  }
}

/**
 * Creates the key file with one new key unless it exists. Atomic: a complete
 * temporary file is linked to the final name, which fails if another process
 * (the other instance starting at the same time) was first. Folders it creates are 0700.
 */
export function createKeyFileIfMissing(file: string, now: number): 'created' | 'exists' {
  if (fs.existsSync(file)) return 'exists'
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = writeTemp(file, serializeKeys([generateKey(now)]))
  try {
    fs.linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists'
    throw err
  } finally {
    fs.rmSync(tmp, { force: true })
  }
  syncDir(path.dirname(file))
  return 'created'
}

/** Replaces the key file atomically (temporary file, then rename), owner-only. */
export function replaceKeyFile(file: string, keys: readonly OrgKey[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = writeTemp(file, serializeKeys(keys))
  try {
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
  syncDir(path.dirname(file))
}

/** Creates the key file if missing, then reads it: what an instance does at startup. Throws ConfigError. */
export function openKeyFile(file: string, now: number): KeyFileVersion {
  try {
    createKeyFileIfMissing(file, now)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new ConfigError(displayPath(file), '', `X-Gateway-Org key file cannot be created (${code})`)
  }
  return readKeyFile(file)
}
