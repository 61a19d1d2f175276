// Finding and removing X-Gateway-Org fields in a message, and reading the
// Message-ID the header is bound to. Works on Haraka's raw field list (what the
// message stream writes), so a field in obsolete syntax ("X-Gateway-Org : …"),
// which Haraka's parsed header map does not see, is found and removed as well.

import { ORG_HEADER } from './header'

/** A field's name, also in the obsolete "Name : value" form. */
const FIELD = /^([^:\s]+)[ \t]*:/

const isOrgField = (line: string) => FIELD.exec(line)?.[1]?.toLowerCase() === ORG_HEADER.toLowerCase()

/** The raw values (after "Name:", possibly folded) of every X-Gateway-Org field, top first. */
export function orgFieldValues(headerList: readonly string[]): string[] {
  return headerList.filter(isOrgField).map((l) => l.slice(FIELD.exec(l)![0].length).replace(/\r?\n$/, ''))
}

/** Removes every X-Gateway-Org field; returns how many there were. */
export function removeOrgFields(txn: Haraka.Transaction): number {
  const raw = txn.header.header_list
  let n = 0
  for (let i = raw.length - 1; i >= 0; i--) {
    if (isOrgField(raw[i]!)) {
      raw.splice(i, 1)
      n++
    }
  }
  txn.remove_header(ORG_HEADER) // keeps Haraka's parsed view in step
  return n
}

/** The Message-ID field values, as the header binds them (see messageIdDigest). */
export function messageIdsOf(headerList: readonly string[]): string[] {
  return headerList.filter((l) => FIELD.exec(l)?.[1]?.toLowerCase() === 'message-id').map((l) => l.slice(FIELD.exec(l)![0].length))
}
