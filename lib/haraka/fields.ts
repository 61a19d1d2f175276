// Internals the gateway reads or edits in place on objects Haraka hands to hooks,
// without replacing any function (the code stays with its feature; the checklist
// lists each use). Only methods can be checked at startup; fields that exist only
// on live objects (header_list, headers_decoded, header_lines, encoding,
// authheader, targetsocket) are covered by the integration tests the checklist names.

import type { HarakaInternal } from './internal'

/** connection.js auth_results() (line 1483): adds to the Authentication-Results header Haraka assembles. */
export const AUTH_RESULTS: HarakaInternal = {
  module: './connection',
  member: ['Connection', 'prototype', 'auth_results'],
  kind: 'function',
  usedBy: 'gateway-dmarc (Authentication-Results)',
}

/**
 * haraka-email-message Header.decode_header (used by header.parse): rebuilding the
 * decoded view after fields are removed from header_list (lib/header-scrub/scrub.ts).
 */
export const DECODE_HEADER: HarakaInternal = {
  module: 'haraka-email-message',
  member: ['Header', 'prototype', 'decode_header'],
  kind: 'function',
  usedBy: 'gateway-outbound-scrub (header removal)',
}

/** A new Header has the three structures applyScrub keeps in step (header_list is what the message stream writes). */
export const HEADER_FIELDS: HarakaInternal = {
  module: 'haraka-email-message',
  member: ['Header'],
  kind: 'function',
  usedBy: 'gateway-outbound-scrub (header removal)',
  probe(Header) {
    const h = new (Header as new () => Record<string, unknown>)()
    const missing = ['headers', 'headers_decoded'].filter((k) => typeof h[k] !== 'object' || h[k] === null)
    if (!Array.isArray(h.header_list)) missing.unshift('header_list (an array)')
    return missing.length === 0 ? undefined : `a new Header lacks ${missing.join(', ')}`
  },
}

export const FIELD_INTERNALS: readonly HarakaInternal[] = [AUTH_RESULTS, HEADER_FIELDS, DECODE_HEADER]
