// `gateway user add|remove|list`: manages the outbound relay's credential file.
// The password is read from standard input (first line), never from the command
// line, where it would end up in shell history and the process list.

import fs from 'node:fs'
import path from 'node:path'

import { formatUsers, hashPassword, parseUsers, USER_NAME } from '../lib/auth/credentials'
import { instanceDir } from '../lib/config/paths'

export function usersFile(): string {
  return process.env.GATEWAY_USERS_FILE || path.join(instanceDir('outbound'), 'config', 'smtp-users')
}

function load(file: string): Map<string, string> {
  if (!fs.existsSync(file)) return new Map()
  const { users, errors } = parseUsers(fs.readFileSync(file, 'utf8'))
  if (errors.length) throw new Error(`${file}: ${errors.join('; ')}`)
  return users
}

/** Written to a temporary file and renamed: a reader never sees half a file. */
function save(file: string, users: Map<string, string>): void {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, formatUsers(users), { mode: 0o600 })
  fs.renameSync(tmp, file)
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
  const [action, name] = args
  const file = usersFile()
  if (action === 'list') {
    for (const user of load(file).keys()) console.log(user)
    return 0
  }
  if ((action !== 'add' && action !== 'remove') || !name) {
    console.error('usage: gateway user add NAME  (password on stdin) | gateway user remove NAME | gateway user list')
    return 64
  }
  if (!USER_NAME.test(name)) {
    console.error(`gateway: invalid user name "${name}" (letters, digits, . _ @ + -; at most 64)`)
    return 65
  }
  const users = load(file)
  if (action === 'remove') {
    if (!users.delete(name)) {
      console.error(`gateway: no user "${name}" in ${file}`)
      return 1
    }
    save(file, users)
    console.log(`removed ${name}`)
    return 0
  }
  const password = await readPassword()
  if (password.length < 8) {
    console.error('gateway: the password must have at least 8 characters')
    return 65
  }
  const existed = users.has(name)
  users.set(name, await hashPassword(password))
  save(file, users)
  console.log(`${existed ? 'updated' : 'added'} ${name} in ${file}`)
  return 0
}
