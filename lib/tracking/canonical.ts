// The forms searched by: a Message-ID and an address are indexed and looked up
// in one canonical spelling, so `gateway track --message-id "<X@Y>"` finds what
// was recorded as "x@y" and vice versa.

import crypto from 'node:crypto'

import { canonicalAddress } from '../address/canonical'

/** "<Abc@Host.Example>" -> "abc@host.example"; undefined for an empty one. */
export function canonicalMessageId(raw: string): string | undefined {
  const trimmed = raw.trim().replace(/^<+/, '').replace(/>+$/, '').trim().toLowerCase()
  return trimmed === '' ? undefined : trimmed
}

/** The key part of the Message-ID index: a hash keeps keys short and free of odd bytes. */
export function messageIdDigest(raw: string): string | undefined {
  const id = canonicalMessageId(raw)
  return id === undefined ? undefined : crypto.hash('sha256', id, 'hex').slice(0, 32)
}

/** An envelope address as indexed; undefined for the null sender. */
export function indexAddress(address: string): string | undefined {
  const a = address.trim()
  return a === '' || a === '<>' ? undefined : canonicalAddress(a)
}
