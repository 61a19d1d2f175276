// `gateway user add|remove|list|may-send`: manages the outbound relay's credential
// file and what each user may send as (the sender-scopes file beside it). The
// password is read from standard input (first line), never from the command
// line, where it would end up in shell history and the process list.

import fs from 'node:fs'
import path from 'node:path'

import { formatUsers, hashPassword, parseUsers, USER_NAME } from '../lib/submission/credentials'
import { formatScopes, parseScopes } from '../lib/submission/scope-file'
import { namesAnAddress, SenderScope, splitScope } from '../lib/submission/sender-scope'
import { instanceDir } from '../lib/config/paths'

const USAGE = `usage: gateway user add NAME [--may-send LIST]   (password on stdin)
       gateway user may-send NAME LIST|default
       gateway user remove NAME
       gateway user list
  LIST: what NAME may send as (MAIL FROM and header From), comma-separated:
        app@example.com (that address), example.com (any address of exactly that domain),
        *.example.com (its subdomains), '<>' (the null sender: bounces), '*' (anyone)
  without a LIST: a user named like an address sends as that address only, any
  other user as anyone in the accepted domains (and '<>')`

export function usersFile(): string {
  return process.env.GATEWAY_USERS_FILE || path.join(instanceDir('outbound'), 'config', 'smtp-users')
}

/** The sender-scopes file: beside the user file unless GATEWAY_SCOPES_FILE says otherwise. */
export function scopesFile(): string {
  return process.env.GATEWAY_SCOPES_FILE || path.join(path.dirname(usersFile()), 'sender-scopes')
}

function load(file: string): Map<string, string> {
  if (!fs.existsSync(file)) return new Map()
  const { users, errors } = parseUsers(fs.readFileSync(file, 'utf8'))
  if (errors.length) throw new Error(`${file}: ${errors.join('; ')}`)
  return users
}

function loadScopes(file: string): Map<string, string[]> {
  if (!fs.existsSync(file)) return new Map()
  const { scopes, errors } = parseScopes(fs.readFileSync(file, 'utf8'))
  if (errors.length) throw new Error(`${file}: ${errors.join('; ')}`)
  return scopes
}

/** Written to a temporary file and renamed: a reader never sees half a file. */
function writeAtomically(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text, { mode })
  fs.renameSync(tmp, file)
}

function save(file: string, users: Map<string, string>): void {
  writeAtomically(file, formatUsers(users), 0o600)
}

function saveScopes(file: string, scopes: Map<string, string[]>): void {
  writeAtomically(file, formatScopes(scopes), 0o644)
}

/** The entries of a --may-send LIST, or an error message. */
function parseList(list: string): string[] | string {
  const entries = splitScope(list)
  if (entries.length === 0) return 'the list of what the user may send as is empty'
  try {
    return [...new SenderScope(entries).entries]
  } catch (err) {
    return (err as Error).message
  }
}

function defaultDescription(name: string): string {
  return namesAnAddress(name) ? `${name.toLowerCase()} (default)` : 'accepted domains, <> (default)'
}

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (input is shown; pipe it in to avoid that): ')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer)
    if (Buffer.concat(chunks).includes(10)) break
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? ''
}

export async function userCommand(args: string[]): Promise<number> {
  const [action, name, ...rest] = args
  const file = usersFile()
  const sFile = scopesFile()
  if (action === 'list' && name === undefined) {
    // NAME <tab> what it may send as
    const scopes = loadScopes(sFile)
    for (const user of load(file).keys()) console.log(`${user}\t${scopes.get(user)?.join(', ') ?? defaultDescription(user)}`)
    return 0
  }
  const usage = () => (console.error(USAGE), 64)
  if (!name || !['add', 'remove', 'may-send'].includes(action ?? '')) return usage()
  if (!USER_NAME.test(name)) {
    console.error(`gateway: invalid user name "${name}" (letters, digits, . _ @ + -; at most 64)`)
    return 65
  }
  const users = load(file)
  const scopes = loadScopes(sFile)

  if (action === 'remove') {
    if (rest.length) return usage()
    if (!users.delete(name)) {
      console.error(`gateway: no user "${name}" in ${file}`)
      return 1
    }
    save(file, users)
    if (scopes.delete(name)) saveScopes(sFile, scopes)
    console.log(`removed ${name}`)
    return 0
  }

  if (action === 'may-send') {
    if (rest.length !== 1) return usage()
    if (!users.has(name)) {
      console.error(`gateway: no user "${name}" in ${file} (add it first: gateway user add ${name} --may-send LIST)`)
      return 1
    }
    if (rest[0] === 'default') scopes.delete(name)
    else {
      const entries = parseList(rest[0]!)
      if (typeof entries === 'string') return invalidList(entries)
      scopes.set(name, entries)
    }
    saveScopes(sFile, scopes)
    console.log(`${name} may send as: ${scopes.get(name)?.join(', ') ?? defaultDescription(name)}`)
    return 0
  }

  // add
  let entries: string[] | undefined
  if (rest.length === 2 && rest[0] === '--may-send') {
    const parsed = parseList(rest[1]!)
    if (typeof parsed === 'string') return invalidList(parsed)
    entries = parsed
  } else if (rest.length) return usage()
  const password = await readPassword()
  if (password.length < 8) {
    console.error('gateway: the password must have at least 8 characters')
    return 65
  }
  const existed = users.has(name)
  users.set(name, await hashPassword(password))
  // the scope first: a new user never exists, not even for a moment, with broader rights than asked for
  if (entries) {
    scopes.set(name, entries)
    saveScopes(sFile, scopes)
  }
  save(file, users)
  console.log(`${existed ? 'updated' : 'added'} ${name} in ${file}; may send as: ${scopes.get(name)?.join(', ') ?? defaultDescription(name)}`)
  return 0
}

function invalidList(problem: string): number {
  console.error(`gateway: --may-send: ${problem} (address, domain, *.domain, '<>' or '*', comma-separated)`)
  return 65
}
