// The outbound relay's credentials: one "name:scrypt$N$r$p$salt$hash" line per
// user in a file the CLI manages (gateway user add|remove|list). Passwords are
// never stored; verification costs the same whether or not the user exists, so
// timing does not tell an attacker which names are real.
//
// A successful verification is remembered for a short time (verified_cache_ttl):
// an internal server opens ~20 sessions a minute with one account, and one scrypt
// verification costs ~30 ms of CPU, more than relaying the message. What is kept
// is an HMAC of the password under a key made at process start (never the
// password), tied to the user's stored hash: a password change, a removed user
// or any change of the file (gateway user ...) ends it. A wrong password is never
// remembered: every guess costs a full scrypt, as before.
//
// When the remembered verification has expired, the server's next burst of
// sessions all send the same password at once. The first runs the AUTH attempt
// (lead()); the others wait for it (underWay()) and then find the password
// remembered, instead of each running scrypt and taking a lockout lease (20
// sessions: 20 scrypt runs and, the lockout's limit making most of them poll,
// 110 lockout scripts in test/outbound-auth.test.ts; now 1 and 2). Only the same password of the same user is waited for, and
// only when the store remembers verifications: a different password (a guess)
// runs its own attempt and is counted as before.

import crypto from 'node:crypto'
import path from 'node:path'

import { ChangedFile, type ChangedFileOptions } from '../config/changed-file'

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32, saltlen: 16 }
export const USER_NAME = /^[A-Za-z0-9._@+-]{1,64}$/

interface Hash {
  N: number
  r: number
  p: number
  salt: Buffer
  hash: Buffer
}

function scrypt(password: string, h: Pick<Hash, 'N' | 'r' | 'p' | 'salt'>, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, h.salt, keylen, { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(SCRYPT.saltlen)
  const hash = await scrypt(password, { ...SCRYPT, salt }, SCRYPT.keylen)
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`
}

/**
 * Parses and sanity-checks a stored hash. A truncated hash must never verify:
 * comparing zero (or three) bytes would accept any password.
 */
function parseHash(text: string): Hash | undefined {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text)
  if (!m) return undefined
  const h = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]), salt: Buffer.from(m[4]!, 'base64'), hash: Buffer.from(m[5]!, 'base64') }
  const powerOfTwo = h.N >= 1024 && h.N <= 1 << 20 && (h.N & (h.N - 1)) === 0
  if (!powerOfTwo || h.r < 1 || h.r > 32 || h.p < 1 || h.p > 16) return undefined
  if (h.salt.length < 16 || h.hash.length !== SCRYPT.keylen) return undefined
  return h
}

/** Parses the file; malformed lines are reported, not silently skipped. */
export function parseUsers(text: string): { users: Map<string, string>; errors: string[] } {
  const users = new Map<string, string>()
  const errors: string[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const sep = line.indexOf(':')
    const name = line.slice(0, sep)
    const hash = line.slice(sep + 1)
    if (sep < 1 || !USER_NAME.test(name) || !parseHash(hash)) errors.push(`line ${i + 1}: not "name:scrypt$..."`)
    else users.set(name, hash)
  })
  return { users, errors }
}

export function formatUsers(users: ReadonlyMap<string, string>): string {
  const lines = [...users].sort(([a], [b]) => a.localeCompare(b)).map(([name, hash]) => `${name}:${hash}`)
  return `# Managed by "gateway user add|remove|list". One user per line: name:scrypt$N$r$p$salt$hash\n${lines.join('\n')}\n`
}

export interface CredentialStoreOptions {
  /** Seconds a successful verification is remembered; 0 = every AUTH runs scrypt. */
  readonly verifiedCacheSeconds?: number
  /** Milliseconds, for the cache's expiry (tests). */
  readonly now?: () => number
  /** How the users file is checked for changes (tests: recheckMs 0, a stat at every use). */
  readonly changeCheck?: ChangedFileOptions
}

interface Verified {
  /** HMAC-SHA256 of the password under this process's key. */
  readonly digest: Buffer
  /** The stored hash it was verified against: a new password ends it. */
  readonly stored: string
  readonly until: number
}

/** Reads the user file, re-reading it when it changes on disk (no restart after `gateway user add`). */
export class CredentialStore {
  private users = new Map<string, string>()
  private readonly source: ChangedFile
  private readonly dummy: Promise<string> = hashPassword(crypto.randomBytes(16).toString('hex'))
  /** User name -> its last successful verification (bounded by the users in the file). */
  private verified = new Map<string, Verified>()
  private readonly cacheKey = crypto.randomBytes(32)
  /** Attempts under way (lead()), by user name and password digest: what underWay() waits for. */
  private readonly running = new Map<string, Promise<unknown>>()
  private readonly cacheMs: number
  private readonly now: () => number

  constructor(
    readonly file: string,
    private readonly onProblem: (message: string) => void,
    opts: CredentialStoreOptions = {},
  ) {
    this.source = new ChangedFile(file, opts.changeCheck)
    this.cacheMs = (opts.verifiedCacheSeconds ?? 0) * 1000
    this.now = opts.now ?? Date.now
  }

  async verify(name: string, password: string): Promise<boolean> {
    this.refresh()
    const known = this.users.get(name)
    const digest = this.cacheMs > 0 && known !== undefined ? this.digestOf(password) : undefined
    if (digest && this.remembered(name, known!, digest)) return true
    const h = parseHash(known ?? (await this.dummy))!
    const actual = await scrypt(password, h, h.hash.length)
    const ok = crypto.timingSafeEqual(actual, h.hash) && known !== undefined
    // the file may have changed while scrypt ran: remember only against what is stored now
    if (ok && digest && this.users.get(name) === known) this.verified.set(name, { digest, stored: known!, until: this.now() + this.cacheMs })
    return ok
  }

  /**
   * Whether `password` is the one verified for `name` within verified_cache_ttl (and
   * still the stored one), without scrypt: the AUTH lockout then only asks whether
   * the account or address is locked (AuthLockout.attemptKnown).
   */
  knownValid(name: string, password: string): boolean {
    if (this.cacheMs === 0) return false
    this.refresh()
    const known = this.users.get(name)
    return known !== undefined && this.remembered(name, known, this.digestOf(password))
  }

  /**
   * Runs `attempt` (the AUTH attempt that verifies `password` for `name`); until it
   * settles, underWay() hands the same user's sessions with the same password a
   * promise of its end. Without a remembered result to share (verified_cache_ttl 0,
   * or a user not in the file) the attempt simply runs.
   */
  async lead<T>(name: string, password: string, attempt: () => Promise<T>): Promise<T> {
    const key = this.runningKey(name, password)
    if (key === undefined || this.running.has(key)) return attempt()
    const run = attempt()
    this.running.set(key, run)
    try {
      return await run
    } finally {
      this.running.delete(key)
    }
  }

  /**
   * The attempt under way (lead()) for this user with this same password: resolves
   * when it has ended, whatever its outcome (then knownValid() tells whether the
   * password was right). Undefined when none is.
   */
  underWay(name: string, password: string): Promise<void> | undefined {
    const key = this.runningKey(name, password)
    const run = key === undefined ? undefined : this.running.get(key)
    return run?.then(
      () => undefined,
      () => undefined,
    )
  }

  private runningKey(name: string, password: string): string | undefined {
    if (this.cacheMs === 0) return undefined
    this.refresh()
    if (!this.users.has(name)) return undefined
    // the digest is keyed by this process's secret: the map never holds a password
    return `${name}\0${this.digestOf(password).toString('base64')}`
  }

  private digestOf(password: string): Buffer {
    return crypto.createHmac('sha256', this.cacheKey).update(password, 'utf8').digest()
  }

  private remembered(name: string, stored: string, digest: Buffer): boolean {
    const v = this.verified.get(name)
    if (!v) return false
    if (v.stored !== stored || v.until <= this.now()) {
      this.verified.delete(name)
      return false
    }
    return crypto.timingSafeEqual(v.digest, digest)
  }

  private refresh(): void {
    let text: string | null | undefined
    try {
      text = this.source.readIfChanged()
      if (text !== undefined) this.verified = new Map() // the file changed (gateway user ...): verify afresh
    } catch (err) {
      this.verified = new Map()
      this.users = new Map() // unreadable: nobody authenticates rather than a stale or partial list
      this.onProblem(`${(err as Error).message}: nobody can authenticate until it is readable`)
      return
    }
    if (text === undefined) return
    if (text === null) {
      this.users = new Map()
      this.onProblem(`${path.basename(this.file)} does not exist: nobody can authenticate (add users with "gateway user add NAME")`)
      return
    }
    const { users, errors } = parseUsers(text)
    for (const e of errors) this.onProblem(`${this.file}: ${e} (line ignored)`)
    this.users = users
  }
}
