// Every file name a MIME part carries, decoded as mail clients decode it: the
// filename and name parameters of every Content-Disposition and Content-Type
// header (all of them: clients differ on which one they show), RFC 2231
// parameters (filename*=UTF-8''evil%2Eexe, with continuations and charsets)
// through libmime's parameter parser, RFC 2047 encoded words in a plain
// parameter decoded the way mailsplit decodes the name it shows. A name is
// checked in every reading a client may show: decoded, and as written.

import type { Headers } from '@zone-eu/mailsplit'
import libmime = require('libmime')

const NAME_HEADERS = ['content-disposition', 'content-type'] as const
const NAME_PARAMS = ['filename', 'name'] as const

/** The names in `headers`; `shown` (mailsplit's reading of the name, if any) comes first. */
export function partNames(headers: Headers, shown?: string): string[] {
  const out = new Set<string>()
  const add = (name: string) => {
    const n = name.trim()
    if (n) out.add(n)
  }
  if (shown) add(shown)
  for (const key of NAME_HEADERS) {
    for (const line of headers.get(key)) {
      const parsed = libmime.parseHeaderValue(libmime.decodeHeader(line).value, { stripComments: true })
      for (const param of NAME_PARAMS) {
        const value = parsed.params[param]
        if (!value) continue
        // an RFC 2231 value is decoded already; decoding it again would read what no client reads
        if (!parsed.decodedParams.includes(param)) add(decodeWords(value))
        add(value)
      }
    }
  }
  return [...out]
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value)
  } catch {
    return value // an unknown charset: clients show it as written
  }
}
