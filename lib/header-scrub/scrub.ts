// Which header fields of an outgoing message are internal, and removing them from
// Haraka's header object so that the message stream (written from header_list)
// and the parsed view (what DKIM signs, what later plugins read) agree.

import { isInternalHop } from './received'

/** The gateway's own header family: written inside, never meant for the Internet. */
export const OWN_PREFIX = 'x-gateway-'

/** Addresses that are never on the Internet: always internal for Received hops. */
export const PRIVATE_NETWORKS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
]

/**
 * What happens to Received fields: `internal` removes the newest hops for as long
 * as they were made inside (up to the hop where the message entered from the
 * Internet, if it did); `all` removes every one; `none` keeps them.
 */
export const RECEIVED_MODES = ['internal', 'all', 'none'] as const
export type ReceivedMode = (typeof RECEIVED_MODES)[number]

export interface ScrubRules {
  /** Lower-cased field names to remove (besides X-Gateway-*). */
  readonly names: ReadonlySet<string>
  /** Lower-cased name prefixes to remove; X-Gateway- is always one. */
  readonly prefixes: readonly string[]
  readonly received: ReceivedMode
  /** Whether an address belongs to the organisation (for `internal`). */
  readonly isInternal: (ip: string) => boolean
}

/** A field's name, also in the obsolete "Name : value" form that Haraka's header map does not see. */
const FIELD_NAME = /^([^:\s]+)[ \t]*:/
/** A field in the syntax Haraka's header parser understands (and indexes). */
const STRICT_FIELD = /^([^\s:]*):\s*([\s\S]*)$/

export interface ScrubPlan {
  /** Indexes into header_list, ascending. */
  readonly remove: readonly number[]
  /** Lower-cased names of the removed fields, each once, in header order. */
  readonly names: readonly string[]
  /** How many of the removed fields are Received fields. */
  readonly received: number
}

/** Decides which fields of `headerList` (raw "Name: value\n" strings, top first) go. */
export function planScrub(headerList: readonly string[], rules: ScrubRules): ScrubPlan {
  const remove: number[] = []
  let received = 0
  let inside = rules.received === 'internal' // still in the run of internal hops at the top
  headerList.forEach((field, i) => {
    const m = FIELD_NAME.exec(field)
    if (!m) return
    const name = m[1]!.toLowerCase()
    if (name === 'received') {
      if (rules.received === 'none') return
      if (rules.received === 'internal') {
        inside &&= isInternalHop(field.slice(m[0].length), rules.isInternal)
        if (!inside) return
      }
      remove.push(i)
      received++
      return
    }
    if (name.startsWith(OWN_PREFIX) || rules.names.has(name) || rules.prefixes.some((p) => name.startsWith(p))) remove.push(i)
  })
  const names = [...new Set(remove.map((i) => FIELD_NAME.exec(headerList[i]!)![1]!.toLowerCase()))]
  return { remove, names, received }
}

/** The members of Haraka's Header (haraka-email-message) that removal must keep in step. */
export interface MutableHeader {
  /** Raw fields in message order; the message stream writes the header from this very array. */
  header_list: string[]
  /** Lower-cased name -> raw values, in message order. */
  headers: Record<string, string[]>
  /** Lower-cased name -> decoded values. */
  headers_decoded: Record<string, string[]>
  decode_header(value: string): string
}

/**
 * Removes the planned fields from header_list (in place: the message stream holds
 * this array) and rebuilds the parsed entries of every name that lost a field from
 * what remains, so get()/get_all() never return a removed value and the order of
 * the fields that stay (Received!) is unchanged.
 */
export function applyScrub(header: MutableHeader, plan: ScrubPlan): void {
  const touched = new Set<string>()
  for (const i of [...plan.remove].sort((a, b) => b - a)) {
    const m = STRICT_FIELD.exec(header.header_list[i]!)
    if (m) touched.add(m[1]!.toLowerCase())
    header.header_list.splice(i, 1)
  }
  for (const name of touched) {
    const values: string[] = []
    for (const field of header.header_list) {
      const m = STRICT_FIELD.exec(field)
      if (m && m[1]!.toLowerCase() === name) values.push(m[2]!)
    }
    if (values.length === 0) {
      delete header.headers[name]
      delete header.headers_decoded[name]
    } else {
      header.headers[name] = values
      header.headers_decoded[name] = values.map((v) => header.decode_header(v))
    }
  }
}
