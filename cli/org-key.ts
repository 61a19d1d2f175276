// `gateway org-key rotate|list`: the keys that sign and verify X-Gateway-Org
// (lib/org/key-file.ts), in the file [org] key_file of config/gateway.ini names.
// rotate adds a new signing key and lets the previous one verify for a grace
// period (mail stamped before the rotation and relayed later still verifies);
// running instances pick the new file up within a second. Several nodes share
// the file: rotate on one, then copy the file (owner-only) to the others within
// the grace period. Key material is never printed.

import { ConfigError } from '../lib/config/errors'
import { gatewayConfig } from '../lib/config/gateway'
import { deploymentPath, displayPath } from '../lib/config/paths'
import { field } from '../lib/config/schema'
import { createKeyFileIfMissing, keyState, readKeyFile, replaceKeyFile, rotateKeys, signingKeyOf } from '../lib/org/key-file'

const USAGE = `usage: gateway org-key rotate [--grace DURATION]   new signing key; the previous one verifies for DURATION
                                              (e.g. 7d, 12h, 30m, 0s; default [org] key_grace of config/gateway.ini)
       gateway org-key list                      the keys: id, created, state`

class UsageError extends Error {}

const GRACE = field.duration({ min: 0, max: 365 * 86_400 })

function parseRotate(args: string[]): { graceSeconds: number | undefined } {
  let graceSeconds: number | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--grace') {
      const v = args[++i]
      if (v === undefined) throw new UsageError('--grace needs a value')
      try {
        graceSeconds = GRACE.parse(v)
      } catch (err) {
        throw new UsageError(`--grace: ${(err as Error).message}`)
      }
    } else throw new UsageError(`unexpected argument ${a}`)
  }
  return { graceSeconds }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

function rotate(args: string[]): number {
  const { graceSeconds } = parseRotate(args)
  const { org } = gatewayConfig().settings
  const file = deploymentPath(org.key_file)
  const now = Date.now()
  if (createKeyFileIfMissing(file, now) === 'created') {
    const first = readKeyFile(file).keys[0]!
    console.log(`created ${displayPath(file)} with signing key ${first.id} (there was no key file)`)
    return 0
  }
  const before = readKeyFile(file).keys
  const grace = graceSeconds ?? org.key_grace
  const after = rotateKeys(before, now, grace * 1000)
  replaceKeyFile(file, after)
  readKeyFile(file) // what the instances will read must read back
  const added = signingKeyOf(after)!
  const retiring = before.filter((k) => k.retires === null).map((k) => k.id)
  const dropped = before.filter((k) => !after.some((a) => a.id === k.id)).map((k) => k.id)
  console.log(`new signing key ${added.id} in ${displayPath(file)}`)
  if (retiring.length > 0) console.log(`${retiring.join(', ')} still verif${retiring.length > 1 ? 'y' : 'ies'} until ${iso(now + grace * 1000)}`)
  if (dropped.length > 0) console.log(`dropped keys retired more than 30 days ago: ${dropped.join(', ')}`)
  console.log('running instances of this node use it within a second; copy the file (mode 0600) to every other gateway node now')
  return 0
}

function list(args: string[]): number {
  if (args.length > 0) throw new UsageError('list takes no arguments')
  const file = deploymentPath(gatewayConfig().settings.org.key_file)
  const { keys } = readKeyFile(file)
  const now = Date.now()
  console.log(['id', 'created', 'state'].join('\t'))
  for (const k of [...keys].sort((a, b) => a.created - b.created)) {
    const state = keyState(k, keys, now)
    const text = state === 'signing' ? 'signing' : state === 'verifying' ? (k.retires === null ? 'verifying (not retired; a newer key signs)' : `verifying until ${iso(k.retires)}`) : `retired since ${iso(k.retires!)}`
    console.log([k.id, iso(k.created), text].join('\t'))
  }
  return 0
}

export async function orgKeyCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args
  try {
    if (action === 'rotate') return rotate(rest)
    if (action === 'list') return list(rest)
    console.error(USAGE)
    return action === 'help' || action === '--help' ? 0 : 64
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`gateway: ${err.message}\n${USAGE}`)
      return 64
    }
    if (err instanceof ConfigError) {
      console.error(`gateway: configuration error: ${err.message}`)
      return 78 // EX_CONFIG
    }
    const code = (err as NodeJS.ErrnoException).code
    if (code) {
      console.error(`gateway: cannot write the key file: ${code}`)
      return 73 // EX_CANTCREAT
    }
    throw err
  }
}
