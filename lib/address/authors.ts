// Who a message says it is from, read the way mail clients and DKIM read it:
// every From (or Sender) field of the raw header, including the obsolete
// "From : x" form that Haraka's header map does not index, parsed by a real
// RFC 5322 parser (@haraka/email-address). A home-made extractor misreads
// comments and quoted strings, and that difference is exactly what a spoofer
// uses: `From: (") <ceo@example.com> (" (x) app@example.com)` is ceo@ to clients.

// The ES module build's typings cannot be imported from CommonJS: require the CommonJS build.
const { parseFrom } = require('@haraka/email-address') as { parseFrom(value: string): unknown[] }

export interface HeaderField {
  /** The field's value, unfolded, not decoded (decoding encoded-words can forge addresses). */
  value: string
}

/** Every field named `name` in the raw header lines, in order, also in obsolete "Name : value" syntax. */
export function rawFields(headerList: readonly string[], name: string): HeaderField[] {
  const pattern = new RegExp(`^${name}[ \\t]*:`, 'i')
  const out: HeaderField[] = []
  for (const line of headerList) {
    const m = pattern.exec(line)
    if (m) out.push({ value: line.slice(m[0].length).replace(/\r?\n[ \t]/g, ' ').trim() })
  }
  return out
}

export type Mailboxes = { ok: true; addresses: string[] } | { ok: false; problem: string }

/** The mailboxes of one address-list value (groups flattened), lower-cased; a parse failure is a problem, not a guess. */
export function parseMailboxes(value: string): Mailboxes {
  let parsed: unknown[]
  try {
    parsed = parseFrom(value) as unknown[]
  } catch (err) {
    return { ok: false, problem: `unparseable address list (${(err as Error).message})` }
  }
  const addresses: string[] = []
  for (const item of parsed) {
    const members = (item as { addresses?: unknown[] }).addresses ?? [item]
    for (const m of members) {
      const address = (m as { address?: unknown }).address
      if (typeof address === 'string' && address.includes('@')) addresses.push(address.toLowerCase())
    }
  }
  if (addresses.length === 0) return { ok: false, problem: 'no mailbox' }
  return { ok: true, addresses }
}

/** Everything in a value that looks like an address: a superset, for when the value does not parse. */
export function addressTokens(value: string): string[] {
  return [...value.matchAll(/[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g)].map((m) => m[0].toLowerCase().replace(/\.$/, ''))
}

/**
 * The author addresses for a check that must not be evaded (spoofing of our
 * domains): the parsed mailboxes of every From field, and where a field does
 * not parse, every address-like token in it.
 */
export function authorCandidates(headerList: readonly string[]): string[] {
  const out = new Set<string>()
  for (const field of rawFields(headerList, 'From')) {
    const parsed = parseMailboxes(field.value)
    for (const a of parsed.ok ? parsed.addresses : addressTokens(field.value)) out.add(a)
  }
  return [...out]
}
