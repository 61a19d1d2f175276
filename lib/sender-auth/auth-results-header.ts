// Authentication-Results (RFC 8601) as the gateway writes and polices it: which
// authserv-id a header claims, and the result entries the gateway contributes
// to the one header Haraka assembles (connection.auth_results).

/**
 * The authserv-id a header value claims: its first token after comments and
 * whitespace (a quoted-string is unquoted), lower-cased, without a trailing dot.
 */
export function authservIdOf(value: string): string {
  let s = value.replace(/\r?\n/g, ' ')
  let i = 0
  for (;;) {
    while (i < s.length && /\s/.test(s[i]!)) i++
    if (s[i] !== '(') break
    i = skipComment(s, i)
  }
  s = s.slice(i)
  let id: string
  if (s.startsWith('"')) {
    const end = s.indexOf('"', 1)
    id = s.slice(1, end < 0 ? undefined : end).replace(/\\(.)/g, '$1')
  } else {
    id = /^[^\s;()"]*/.exec(s)![0]
  }
  return id.trim().toLowerCase().replace(/\.$/, '')
}

/** Index just after the (possibly nested) comment starting at `start`. */
function skipComment(s: string, start: number): number {
  let depth = 0
  for (let i = start; i < s.length; i++) {
    const ch = s[i]
    if (ch === '\\') i++
    else if (ch === '(') depth++
    else if (ch === ')' && --depth === 0) return i + 1
  }
  return s.length
}

/** True when the header claims to come from the authentication service `ours`. */
export function claimsAuthservId(value: string, ours: string): boolean {
  return authservIdOf(value) === ours.trim().toLowerCase().replace(/\.$/, '')
}

// haraka-plugin-dkim writes its own result words; RFC 8601 2.7.1 knows these instead.
const DKIM_WORDS = new Map([
  ['invalid', 'permerror'],
  ['tempfail', 'temperror'],
])

/** A "dkim=invalid ..." or "dkim=tempfail ..." entry from haraka-plugin-dkim in RFC 8601 words. */
export function normalizeDkimEntry(entry: string): string {
  const m = /^dkim=([a-z]+)\b/i.exec(entry)
  const word = m && DKIM_WORDS.get(m[1]!.toLowerCase())
  return word ? `dkim=${word}${entry.slice(m[0].length)}` : entry
}

/** The dmarc entry, e.g. "dmarc=fail (p=reject) header.from=example.net". */
export function dmarcEntry(result: string, fromDomain: string, published?: string): string {
  const comment = published ? ` (p=${published})` : ''
  return fromDomain ? `dmarc=${result}${comment} header.from=${fromDomain}` : `dmarc=${result}${comment}`
}

/** The header operations stripClaims needs (a Haraka transaction has them). */
export interface HeaderEditor {
  header: {
    get_all(name: string): readonly string[]
    /** The raw header fields in message order; the message is written from this very array. */
    header_list: string[]
  }
  remove_header(name: string): void
  add_header(name: string, value: string): void
}

// Haraka renames incoming Authentication-Results to Original-Authentication-Results
// before data_post (connection.ini [headers] clean_auth_results, on by default),
// and a sender may write either name itself.
const RESULT_HEADERS = ['Authentication-Results', 'Original-Authentication-Results']
const RESULT_NAMES: ReadonlySet<string> = new Set(RESULT_HEADERS.map((n) => n.toLowerCase()))
// "Authentication-Results : ..." (obsolete syntax, RFC 5322 4.5.3): Haraka keeps
// such a field in the message but not in its header map, so get_all and
// remove_header (and clean_auth_results) never see it, while mail readers and
// filters downstream do read it.
const OBSOLETE_FIELD = /^([^\s:]+)[ \t]+:/

/**
 * Deletes every Authentication-Results and Original-Authentication-Results
 * field that claims authserv-id `ours` (RFC 8601 5: such a field from outside
 * is forged), and every one written in obsolete syntax (no sender needs it, and
 * nothing else here can see it). Other fields stay, in their order. Returns how
 * many were deleted. Haraka's own interim header is deleted too; it is rebuilt
 * after data_post.
 */
export function stripClaims(txn: HeaderEditor, ours: string): number {
  let removed = 0
  const raw = txn.header.header_list
  for (let i = raw.length - 1; i >= 0; i--) {
    const m = OBSOLETE_FIELD.exec(raw[i]!)
    if (m && RESULT_NAMES.has(m[1]!.toLowerCase())) {
      raw.splice(i, 1)
      removed++
    }
  }
  for (const name of RESULT_HEADERS) {
    const all = txn.header.get_all(name)
    const keep = all.filter((v) => !claimsAuthservId(v, ours))
    if (keep.length === all.length) continue
    removed += all.length - keep.length
    txn.remove_header(name)
    for (const v of keep) txn.add_header(name, v)
  }
  return removed
}
