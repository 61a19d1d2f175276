// How many messages one gateway process receives at once, and how many bytes of
// them it holds: the budget gateway-data-budget admits DATA transfers against.
// A burst of large messages otherwise costs memory, disk and scan time in
// proportion to their sum (issue 11: ten 24 MB messages took an instance to 914 MB).
//
// A transfer is admitted at the DATA command (before the 354), never refused once
// it is under way: SMTP cannot answer in the middle of DATA, and refusing at the
// dot throws away a transfer already paid for. Its bytes count as the larger of
// the SIZE the client declared at MAIL and what it has sent so far, so a client
// that declares nothing is counted by what actually arrived.
//
// Release needs no bookkeeping of its own: each transfer carries a `live()`
// test (in the plugin: "is this still the connection's current transaction?").
// Haraka drops the transaction on every way a message ends (250, refusal,
// RSET, a new MAIL, disconnect mid-DATA, timeout, error), so a transfer that
// ended is gone at the next look, whichever path ended it and whether or not
// any hook of ours ran on that path. The budget cannot leak.
//
// The state lives in one process: each Haraka worker (smtp.ini nodes) has its own.

/** The limits of one process; 0 switches a limit off. */
export interface DataBudgetLimits {
  /** DATA transfers in progress at once. */
  readonly maxTransfers: number
  /** Bytes of all transfers in progress (declared SIZE or received so far, whichever is larger). */
  readonly maxBytes: number
}

/** One admitted transfer, as the budget sees it. */
export interface Transfer {
  /** Bytes it counts for now: max(declared SIZE, bytes received). */
  bytes(): number
  /** False once the message is finished or abandoned, by any path. */
  live(): boolean
}

/** Why a transfer is not admitted now. */
export type Refusal =
  | { readonly result: 'concurrent_data'; readonly detail: string }
  | { readonly result: 'inflight_bytes'; readonly detail: string }

export interface Usage {
  readonly transfers: number
  readonly bytes: number
}

export class DataBudget {
  private readonly transfers = new Set<Transfer>()

  constructor(readonly limits: DataBudgetLimits) {}

  /** Transfers in progress and their bytes, after dropping the finished ones. */
  usage(): Usage {
    let bytes = 0
    for (const t of this.transfers) {
      if (t.live()) bytes += t.bytes()
      else this.transfers.delete(t)
    }
    return { transfers: this.transfers.size, bytes }
  }

  /**
   * Would a message of `declared` bytes (0: not declared) fit now? Asked at DATA,
   * and at MAIL with the SIZE parameter for the bytes only (`transfers: false`): a
   * client learns early that a big message cannot be taken now, while the count
   * of transfers is only decided when its DATA starts. Admits nothing.
   */
  check(declared: number, opts: { transfers: boolean } = { transfers: true }): Refusal | undefined {
    const now = this.usage()
    const { maxTransfers, maxBytes } = this.limits
    if (opts.transfers && maxTransfers > 0 && now.transfers >= maxTransfers) {
      return { result: 'concurrent_data', detail: `${now.transfers} transfers in progress, limit ${maxTransfers}` }
    }
    // A message larger than the whole budget still gets in when nothing else is in
    // flight ([max] bytes is the size limit, not this): otherwise it could never be delivered.
    if (maxBytes > 0 && now.bytes > 0 && (now.bytes >= maxBytes || now.bytes + declared > maxBytes)) {
      return { result: 'inflight_bytes', detail: `${now.bytes} bytes in flight + ${declared} declared, limit ${maxBytes}` }
    }
    return undefined
  }

  /** Counts `t` from now until it is no longer live (after check() allowed it, or in monitor mode). */
  hold(t: Transfer): void {
    this.transfers.add(t)
  }

  /** Forgets `t` at once (disconnect): usage() would drop it at the next look anyway. */
  release(t: Transfer): void {
    this.transfers.delete(t)
  }
}

/**
 * The SIZE a client declared at MAIL (RFC 1870), or 0. Parameters arrive as
 * Haraka parsed them: a plain object keyed by the client's words, so looked up as
 * an own property only.
 */
export function declaredSize(params: Readonly<Record<string, unknown>> | undefined): number {
  if (!params || !Object.hasOwn(params, 'SIZE')) return 0
  const n = Number(params.SIZE)
  return Number.isSafeInteger(n) && n > 0 ? n : 0
}
