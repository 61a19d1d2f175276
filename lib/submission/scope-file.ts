// The sender-scopes file of the outbound relay: "NAME  SCOPE, SCOPE, ..." per
// line, naming what each user of smtp-users may send as. Kept apart from the
// password hashes so it can be reviewed, versioned and deployed like any other
// configuration. A user without a line gets defaultScope(); a user whose line is
// broken gets no rights at all, never the (possibly broader) default.


import { ChangedFile, type ChangedFileOptions } from '../config/changed-file'
import { USER_NAME } from './credentials'
import { defaultScope, SenderScope, splitScope } from './sender-scope'

export interface ParsedScopes {
  /** User -> scope entries, for lines that parsed. */
  readonly scopes: Map<string, string[]>
  /** Users whose line is broken (or repeated): they may send as nobody. */
  readonly broken: Set<string>
  readonly errors: string[]
}

export function parseScopes(text: string): ParsedScopes {
  const scopes = new Map<string, string[]>()
  const broken = new Set<string>()
  const errors: string[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line)!
    const name = m[1]!
    const problem = (what: string) => errors.push(`line ${i + 1}: ${what}`)
    if (!USER_NAME.test(name)) return problem(`"${name}" is not a user name`)
    const entries = splitScope(m[2] ?? '')
    let failure: string | undefined
    if (scopes.has(name) || broken.has(name)) failure = `${name} appears twice`
    else if (entries.length === 0) failure = `no scope given for ${name}`
    else {
      try {
        new SenderScope(entries)
      } catch (err) {
        failure = (err as Error).message
      }
    }
    if (failure) {
      scopes.delete(name)
      broken.add(name)
      return problem(`${failure} (${name} may send as nobody until this is fixed)`)
    }
    scopes.set(name, entries)
  })
  return { scopes, broken, errors }
}

export function formatScopes(scopes: ReadonlyMap<string, readonly string[]>): string {
  const lines = [...scopes].sort(([a], [b]) => a.localeCompare(b)).map(([name, entries]) => `${name}  ${entries.join(', ')}`)
  return [
    '# What each outbound user may send as (MAIL FROM and header From). Managed by',
    '# "gateway user add NAME --may-send LIST" and "gateway user may-send NAME LIST".',
    '# NAME  SCOPE, ...   address | domain (exactly) | *.domain (subdomains) | <> (null sender) | * (anyone)',
    ...lines,
    '',
  ].join('\n')
}

export type ScopeSource = 'configured' | 'default' | 'broken'

/** Reads the scopes file, re-reading it when it changes (no restart after `gateway user may-send`). */
export class ScopeStore {
  private parsed: { scopes: Map<string, SenderScope>; broken: Set<string> } = { scopes: new Map(), broken: new Set() }
  private readonly source: ChangedFile
  private unreadable = false

  constructor(
    readonly file: string,
    private readonly acceptedDomains: Iterable<string>,
    private readonly onProblem: (message: string) => void,
    changeCheck?: ChangedFileOptions,
  ) {
    this.source = new ChangedFile(file, changeCheck)
  }

  scopeOf(user: string): { scope: SenderScope; source: ScopeSource } {
    this.refresh()
    if (this.unreadable) return { scope: new SenderScope([]), source: 'broken' }
    const configured = this.parsed.scopes.get(user)
    if (configured) return { scope: configured, source: 'configured' }
    if (this.parsed.broken.has(user)) return { scope: new SenderScope([]), source: 'broken' }
    return { scope: defaultScope(user, this.acceptedDomains), source: 'default' }
  }

  private refresh(): void {
    let text: string | null | undefined
    try {
      text = this.source.readIfChanged()
    } catch (err) {
      // Unreadable is not "missing": the file may restrict users below the default. Fail closed.
      this.unreadable = true
      this.onProblem(`${(err as Error).message}: nobody may send until it is readable`)
      return
    }
    if (text === undefined) return
    this.unreadable = false
    if (text === null) {
      this.parsed = { scopes: new Map(), broken: new Set() } // normal: every user has the default scope
      return
    }
    const { scopes, broken, errors } = parseScopes(text)
    for (const e of errors) this.onProblem(`${this.file}: ${e}`)
    this.parsed = { scopes: new Map([...scopes].map(([name, entries]) => [name, new SenderScope(entries)])), broken }
  }
}
