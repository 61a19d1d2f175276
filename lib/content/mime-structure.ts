// Finds where Haraka's MIME parser may have read a message part differently
// from the mail reader that will display it: a Content-Type it cannot read as
// RFC 2045 does, a boundary it took from the wrong parameter, a multipart in
// which it found no part, part headers that never end, nesting past its depth
// cap, a message header longer than Haraka parses. Whatever the parser missed was never inspected, so such a message
// cannot be called clean; the caller reports it like an unreadable archive.

import { harakaBoundary, harakaSplits, parseContentType, strictBoundary, type StrictContentType } from './content-type'
import { baseMimeType } from './filename'
import type { MimePart } from './mime'

export interface StructureProblem {
  readonly problem: 'malformed' | 'limits'
  /** For logs. */
  readonly detail: string
}

const NO_CONTENT_TYPE: StrictContentType = { type: 'text/plain', params: new Map() }

const structural = (type: string) => type.startsWith('multipart/') || type.startsWith('message/')
const shown = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s)

/**
 * What is wrong with one parsed part (undefined: the parser and an RFC 2045
 * reader agree on it). `depth` is the part's nesting level in its parse (the
 * message itself is 0); `maxDepth` the parser's cap.
 */
export function structureProblem(part: MimePart, depth: number, maxDepth: number): StructureProblem | undefined {
  if (part.state === 'headers' && (part.header_lines?.length ?? 0) > 0) {
    // the parser never read these header lines (no blank line after them); lenient readers take the rest as the body
    return malformed('part header not followed by a blank line')
  }
  const raws = part.header.get_all('content-type')
  if (raws.length > 1) return malformed('more than one Content-Type header')
  const raw = raws[0] ?? ''
  const strict = raw.trim() === '' ? NO_CONTENT_TYPE : parseContentType(raw)
  const decoded = part.header.get_decoded('content-type')
  const parserType = baseMimeType(decoded || 'text/plain')
  const splits = harakaSplits(decoded, part.header.get_decoded('content-disposition'))

  if (!strict) {
    // unreadable is harmless unless someone may read it as a container (a reader guessing from the type part)
    if (splits || structural(parserType) || /(?:multipart|message)\s*\//i.test(raw.split(';')[0]!)) return malformed(`Content-Type ${shown(raw.trim())} does not follow RFC 2045`)
    return undefined
  }
  if ((structural(strict.type) || structural(parserType)) && strict.type !== parserType) {
    return malformed(`Content-Type read as ${shown(parserType)}, by RFC 2045 as ${shown(strict.type)}`)
  }
  if (!splits) return undefined

  const wanted = strictBoundary(strict)
  if ('problem' in wanted) return malformed(wanted.problem)
  const used = harakaBoundary(decoded)
  if (used !== wanted.boundary) return malformed(`boundary read as ${shown(used)}, by RFC 2045 as ${shown(wanted.boundary)}`)
  if (depth >= maxDepth) return { problem: 'limits', detail: `MIME parts nested deeper than ${maxDepth}` }
  if (part.children.length === 0) return malformed('multipart without any part')
  return undefined
}

/**
 * Haraka parses only the first connection.ini [headers] max_lines lines of the
 * message header (transaction.js add_data) and drops the rest silently: a
 * Content-Type after them is never seen, and the whole message is read as text.
 */
export function headerLinesProblem(kept: number, maxLines: number): StructureProblem | undefined {
  return kept >= maxLines ? { problem: 'limits', detail: `message header of ${maxLines} lines or more: the rest was not parsed` } : undefined
}

function malformed(detail: string): StructureProblem {
  return { problem: 'malformed', detail }
}
