// `gateway dkim keygen|show`: creates the DKIM signing key of a sender domain
// where the outbound instance reads it (<outbound>/config/dkim/<domain>/, under
// GATEWAY_ROOT) and prints the DNS TXT record to publish. The record goes to
// standard output alone (so it can be piped into a zone file); notes go to stderr.

import { displayPath, instanceDir } from '../lib/config/paths'
import { checkDomain, checkSelector, DEFAULT_BITS, defaultSelector, generateKey, KEY_BITS, KeyExistsError, keyFiles, readKey, txtRecord, writeKey } from '../lib/sender-auth/dkim-keys'

const USAGE = `usage: gateway dkim keygen DOMAIN [--selector S] [--bits 2048] [--force]
       gateway dkim show DOMAIN      print the DNS record of the existing key`

interface KeygenArgs {
  domain: string
  selector: string
  bits: number
  force: boolean
}

function parseKeygen(args: string[]): KeygenArgs {
  let domain: string | undefined
  let selector = defaultSelector()
  let bits = DEFAULT_BITS
  let force = false
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const value = () => {
      const v = args[++i]
      if (v === undefined) throw new UsageError(`${a} needs a value`)
      return v
    }
    if (a === '--selector') selector = checkSelector(value())
    else if (a === '--bits') bits = checkBits(value())
    else if (a === '--force') force = true
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`)
    else if (domain === undefined) domain = checkDomain(a)
    else throw new UsageError(`unexpected argument ${a}`)
  }
  if (domain === undefined) throw new UsageError('DOMAIN is missing')
  return { domain, selector, bits, force }
}

class UsageError extends Error {}

function checkBits(text: string): number {
  const bits = Number(text)
  if (!/^\d+$/.test(text) || !KEY_BITS.includes(bits)) throw new Error(`--bits ${text}: use one of ${KEY_BITS.join(', ')}`)
  return bits
}

function keygen(args: string[]): number {
  const { domain, selector, bits, force } = parseKeygen(args)
  const files = keyFiles(instanceDir('outbound'), domain)
  const previous = force ? readKey(files) : undefined
  const key = generateKey(bits)
  try {
    writeKey(files, key, selector, force)
  } catch (err) {
    if (!(err instanceof KeyExistsError)) throw err
    console.error(`gateway: a DKIM key for ${domain} already exists in ${displayPath(files.dir)}; use --force to replace it (with a new --selector, so the old record can stay published until mail signed with it is delivered)`)
    return 73 // EX_CANTCREAT
  }
  console.error(`gateway: wrote a ${bits}-bit RSA key for ${domain}, selector ${selector}:`)
  console.error(`  ${displayPath(files.privateFile)} (secret: readable by this user only; the outbound instance must run as this user)`)
  console.error(`  ${displayPath(files.selectorFile)}`)
  if (previous?.selector === selector) {
    console.error(`gateway: warning: the selector ${selector} is unchanged: mail signed with the old key fails DKIM once this record replaces the old one`)
  }
  console.error(`Mail from ${domain} (header From) is signed from the next message on${force ? ' (restart the outbound instance to be sure the new key is read)' : ''}. Publish this TXT record in the ${domain} zone:`)
  console.log(txtRecord(selector, domain, key.publicKeyBase64))
  return 0
}

function show(args: string[]): number {
  if (args.length !== 1) throw new UsageError('show takes exactly one DOMAIN')
  const domain = checkDomain(args[0]!)
  const files = keyFiles(instanceDir('outbound'), domain)
  const key = readKey(files)
  if (!key) {
    console.error(`gateway: no DKIM key for ${domain} in ${displayPath(files.dir)} (create one with: gateway dkim keygen ${domain})`)
    return 1
  }
  if (!key.selector) {
    console.error(`gateway: ${displayPath(files.selectorFile)} is missing or empty: mail from ${domain} is not signed`)
    return 1
  }
  console.log(txtRecord(key.selector, domain, key.publicKeyBase64))
  return 0
}

export async function dkimCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args
  try {
    if (action === 'keygen') return keygen(rest)
    if (action === 'show') return show(rest)
    console.error(USAGE)
    return action === 'help' || action === '--help' ? 0 : 64
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`gateway: ${err.message}\n${USAGE}`)
      return 64
    }
    if (err instanceof Error && !(err as NodeJS.ErrnoException).code) {
      console.error(`gateway: ${err.message}`) // a bad domain, selector or key size
      return 65
    }
    throw err
  }
}
