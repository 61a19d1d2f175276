// Which recipients exist. Behind an interface so the file-based directory used
// today can be replaced by a directory lookup (LDAP, Active Directory, an SMTP
// callout to the internal server) without touching the plugin.

import { ChangedFile } from '../config/changed-file'
import { canonicalAddress, canonicalDomain } from '../address/canonical'

export type Lookup =
  /** The address exists. */
  | 'valid'
  /** The domain's recipients are listed and this one is not. */
  | 'unknown'
  /** No list for this domain: every address is accepted (the internal server decides). */
  | 'unlisted'

export interface RecipientDirectory {
  /** A directory that answers from memory answers at once; one that asks a server, with a promise. */
  lookup(address: string): Lookup | Promise<Lookup>
}

/**
 * The mailbox a recipient means: canonical (unquoted, lower-case, IDNA domain;
 * lib/address/canonical.ts) with a "+detail" sub-address removed: alice+news@x is alice@x.
 */
export function canonical(address: string, separator: string): string {
  const canon = canonicalAddress(address)
  const at = canon.lastIndexOf('@')
  let local = canon.slice(0, at)
  const domain = canon.slice(at + 1)
  if (separator) {
    const cut = local.indexOf(separator)
    if (cut > 0) local = local.slice(0, cut)
  }
  return `${local}@${domain}`
}

/**
 * A file with one address per line (`#` comments). A domain is validated as soon
 * as one of its addresses is listed; `*@domain` lists a domain as catch-all.
 * The file is re-read when it changes, so new mailboxes need no restart.
 */
export class FileDirectory implements RecipientDirectory {
  private addresses = new Set<string>()
  private domains = new Set<string>()
  private catchAll = new Set<string>()
  private readonly source: ChangedFile

  constructor(
    readonly file: string,
    private readonly separator: string,
  ) {
    this.source = new ChangedFile(file)
  }

  lookup(address: string): Lookup {
    this.refresh()
    const addr = canonical(address, this.separator)
    const domain = addr.slice(addr.lastIndexOf('@') + 1)
    if (!this.domains.has(domain)) return 'unlisted'
    if (this.catchAll.has(domain) || this.addresses.has(addr)) return 'valid'
    return 'unknown'
  }

  /** An unreadable list throws (the plugin answers 451 4.3.0): refusing or accepting everyone would both be wrong. */
  private refresh(): void {
    const changed = this.source.readIfChanged()
    if (changed === undefined) return
    const text = changed ?? '' // no file: no domain is validated
    const addresses = new Set<string>()
    const domains = new Set<string>()
    const catchAll = new Set<string>()
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/#.*$/, '').trim().toLowerCase()
      const at = line.lastIndexOf('@')
      if (at < 1 || at === line.length - 1) continue
      const domain = canonicalDomain(line.slice(at + 1))
      domains.add(domain)
      if (line.slice(0, at) === '*') catchAll.add(domain)
      else addresses.add(canonical(line, this.separator))
    }
    this.addresses = addresses
    this.domains = domains
    this.catchAll = catchAll
  }
}
