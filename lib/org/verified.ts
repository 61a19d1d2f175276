// What outbound learned from a message's verified X-Gateway-Org header (its inbound
// history), kept on the transaction: gateway-org-verify sets it, gateway-track
// links the outbound record to the inbound one through it. Only a header that
// came from an authenticated session with a valid, fresh signature gets here.

import { transactionState } from '../plugin/state'

export interface VerifiedOrgHistory {
  /** The inbound record id (the inbound transaction's uuid). */
  readonly recordId: string
  /** The gateway node that received the message from the Internet. */
  readonly node: string
  /** When inbound accepted it (ms since the epoch). */
  readonly time: number
  /** The signing key's id. */
  readonly keyId: string
  /** Spam confidence level inbound gave it (0-9), or null when it was not scanned. */
  readonly scl: number | null
  /**
   * The checks' decisions as inbound recorded them: check -> "result:action"
   * (a check that decided twice: both, in order, joined by ","). A null-prototype
   * object: a check named "__proto__" or "constructor" is just a key.
   */
  readonly checks: Readonly<Record<string, string>>
  /** The same decisions as a list, in the order inbound made them. */
  readonly decisions: readonly { readonly check: string; readonly result: string; readonly action: string }[]
  /** SPF, DKIM and DMARC results inbound found (absent: that check did not run): method -> result. */
  readonly auth: Readonly<Partial<Record<'spf' | 'dkim' | 'dmarc', string>>>
}

const HISTORY = transactionState<VerifiedOrgHistory>('gateway_org_history')

export function setVerifiedOrgHistory(txn: Haraka.Transaction, h: VerifiedOrgHistory): void {
  HISTORY.set(txn, h)
}

export function verifiedOrgHistory(txn: Haraka.Transaction): VerifiedOrgHistory | undefined {
  return HISTORY.get(txn)
}
