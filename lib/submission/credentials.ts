// The outbound relay's credentials: one "name:scrypt$N$r$p$salt$hash" line per
// user in a file the CLI manages (gateway user add|remove|list). Passwords are
// never stored; verification costs the same whether or not the user exists, so
// timing does not tell an attacker which names are real.

import crypto from 'node:crypto'
import path from 'node:path'

import { ChangedFile } from '../config/changed-file'

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

/** Reads the user file, re-reading it when it changes on disk (no restart after `gateway user add`). */
export class CredentialStore {
  private users = new Map<string, string>()
  private readonly source: ChangedFile
  private readonly dummy: Promise<string> = hashPassword(crypto.randomBytes(16).toString('hex'))

  constructor(
    readonly file: string,
    private readonly onProblem: (message: string) => void,
  ) {
    this.source = new ChangedFile(file)
  }

  async verify(name: string, password: string): Promise<boolean> {
    this.refresh()
    const known = this.users.get(name)
    const h = parseHash(known ?? (await this.dummy))!
    const actual = await scrypt(password, h, h.hash.length)
    return crypto.timingSafeEqual(actual, h.hash) && known !== undefined
  }

  private refresh(): void {
    let text: string | null | undefined
    try {
      text = this.source.readIfChanged()
    } catch (err) {
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
