// The X-Gateway-Org keys as a running instance uses them: read at startup
// (created if missing), then re-read when the file changes, looked at no more
// than once a second, so `gateway org-key rotate` takes effect on running
// instances without a restart. A file that becomes unreadable or invalid later
// makes signing and verifying throw (the hook answers 451 4.3.0 and logs why):
// mail waits until the operator fixes it, rather than passing without the header
// or with an unchecked one.

import fs from 'node:fs'

import { ConfigError } from '../config/errors'
import { displayPath } from '../config/paths'
import { openKeyFile, readKeyFile, signingKeyOf, stampOf, type KeyFileVersion, type OrgKey } from './key-file'
import type { KeyLookup, SigningKey } from './header'

const RECHECK_MS = 1000

export class OrgKeyStore {
  private current: KeyFileVersion
  private checkedAt: number

  /** Opens (creating if missing) and checks the file now; throws ConfigError. */
  constructor(
    readonly file: string,
    private readonly clock: () => number = Date.now,
    private readonly onReload: (message: string) => void = () => undefined,
  ) {
    this.current = openKeyFile(file, clock())
    this.checkedAt = clock()
  }

  /** The keys now (re-read if the file changed since the last look, at most once a second). */
  keys(): readonly OrgKey[] {
    const now = this.clock()
    if (now - this.checkedAt >= RECHECK_MS) {
      this.checkedAt = now
      let stamp: string
      try {
        stamp = stampOf(fs.statSync(this.file))
      } catch (err) {
        throw new ConfigError(displayPath(this.file), '', `X-Gateway-Org key file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
      }
      if (stamp !== this.current.stamp) {
        const next = readKeyFile(this.file) // throws: the old keys are not trusted over a broken file
        this.current = next
        this.onReload(`X-Gateway-Org keys re-read from ${displayPath(this.file)}: ${next.keys.map((k) => k.id).join(', ')}; signing with ${signingKeyOf(next.keys)?.id ?? 'none'}`)
      }
    }
    return this.current.keys
  }

  /** The key that signs now. */
  signingKey(): SigningKey {
    const key = signingKeyOf(this.keys())
    if (!key) throw new Error(`${displayPath(this.file)} has no signing key`) // parseKeys refuses such a file; kept for the type
    return key
  }

  /** What a header's key id stands for now. */
  lookup(kid: string): KeyLookup {
    const key = this.keys().find((k) => k.id === kid)
    if (!key) return { state: 'unknown' }
    if (key.retires !== null && this.clock() >= key.retires) return { state: 'retired', retiredAt: key.retires }
    return { state: 'valid', secret: key.secret }
  }
}
