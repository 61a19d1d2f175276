// Reads a raw Content-Type header value strictly by RFC 2045 (parameters are
// `; name=token` or `; name="quoted string"`, RFC 822 comments allowed), the way
// mail readers do, and reproduces how Haraka's MIME parser reads the same value.
// Where the two disagree, a reader may see parts the gateway never inspected.

export interface StrictContentType {
  /** type/subtype, lower case. */
  readonly type: string
  /** Values by lower-case parameter name, in order; RFC 2231 names keep their `*` (`boundary*0`). */
  readonly params: ReadonlyMap<string, readonly string[]>
}

// RFC 2045 tspecials plus space and controls end a token; 8-bit characters are let through (RFC 6532 headers)
const TSPECIALS = new Set('()<>@,;:\\"/[]?=')
const isTokenChar = (c: string) => c > ' ' && c !== '\x7f' && !TSPECIALS.has(c)
// An unquoted value may hold tspecials other than these: senders write boundary=----=_Part_1 unquoted,
// and readers (and Haraka's parser) all take the value up to the next ";"
const ENDS_VALUE = new Set(';"()')
const isValueChar = (c: string) => c > ' ' && c !== '\x7f' && !ENDS_VALUE.has(c)
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n'

/** The value parsed by RFC 2045; undefined when it does not follow the grammar (so its meaning is a guess). */
export function parseContentType(raw: string): StrictContentType | undefined {
  let i = 0
  const n = raw.length

  /** Skips whitespace and (nested) comments; false on an unclosed comment. */
  const skipCfws = (): boolean => {
    for (;;) {
      while (i < n && isSpace(raw[i])) i++
      if (raw[i] !== '(') return true
      let depth = 0
      for (; i < n; i++) {
        const c = raw[i]
        if (c === '\\') i++
        else if (c === '(') depth++
        else if (c === ')' && --depth === 0) break
      }
      if (i >= n) return false
      i++
    }
  }
  const token = (valid = isTokenChar): string => {
    const start = i
    while (i < n && valid(raw[i]!)) i++
    return raw.slice(start, i)
  }
  const quoted = (): string | undefined => {
    let out = ''
    for (i++; i < n; i++) {
      const c = raw[i]!
      if (c === '"') {
        i++
        return out
      }
      if (c === '\\') {
        if (++i >= n) return undefined
        out += raw[i]
      } else if (c !== '\r' && c !== '\n') out += c // a fold inside the string is not part of the value
    }
    return undefined
  }

  if (!skipCfws()) return undefined
  const top = token()
  if (!top || raw[i] !== '/') return undefined
  i++
  const sub = token()
  if (!sub) return undefined
  const params = new Map<string, string[]>()
  for (;;) {
    if (!skipCfws()) return undefined
    if (i >= n) break
    if (raw[i] !== ';') return undefined
    i++
    if (!skipCfws()) return undefined
    if (i >= n || raw[i] === ';') continue // an empty parameter (";;" or a trailing ";") means nothing
    const name = token().toLowerCase()
    if (!name || !skipCfws() || raw[i] !== '=') return undefined
    i++
    if (!skipCfws()) return undefined
    const value = raw[i] === '"' ? quoted() : token(isValueChar) || undefined
    if (value === undefined) return undefined
    const list = params.get(name)
    if (list) list.push(value)
    else params.set(name, [value])
  }
  return { type: `${top}/${sub}`.toLowerCase(), params }
}

/**
 * The one boundary an RFC 2045 reader uses, or why there is none: the
 * parameter is missing, repeated, or also given in RFC 2231 form (readers
 * differ on which one wins).
 */
export function strictBoundary(ct: StrictContentType): { boundary: string } | { problem: string } {
  const plain = ct.params.get('boundary') ?? []
  const extended = [...ct.params.keys()].some((k) => k.startsWith('boundary*'))
  if (extended) return { problem: 'boundary parameter in RFC 2231 form' }
  if (plain.length === 0) return { problem: 'multipart without boundary' }
  if (plain.length > 1) return { problem: 'boundary parameter given more than once' }
  if (plain[0] === '') return { problem: 'empty boundary' }
  return { boundary: plain[0]! }
}

// haraka-email-message 1.4.4 lib/body.js parse_start: an unanchored search that also matches inside
// other parameters ("xboundary=", name="a;boundary=b") and runs on the RFC 2047/2231-decoded value
const HARAKA_BOUNDARY = /boundary\s*=\s*"([^"]+)"|boundary\s*=\s*"?([^";]+)"?/i

/** The boundary Haraka's parser takes from a decoded Content-Type value ('' = none: it reads the part as text). */
export function harakaBoundary(decoded: string): string {
  const m = decoded.match(HARAKA_BOUNDARY)?.filter((g) => g)
  return m?.[1] ? m[1].trim() : ''
}

/** Whether Haraka's parser splits a part with this decoded Content-Type (body.js parse_start). */
export function harakaSplits(decoded: string, disposition: string): boolean {
  const ct = decoded || 'text/plain'
  if (/^(?:text|message)\//i.test(ct) && !/^attachment/i.test(disposition)) return false
  return /^multipart\//i.test(ct)
}
