// The contract of the AUTH lockout's storage (Redis for all nodes, or memory for
// one process): per counted key, a failure counter with a window and a set of
// in-flight verification leases; `admit` and `finish` are each atomic. The
// reasoning behind it is in lockout.ts.

export type LockScope = 'ip' | 'user'

/** One counter an attempt is held to: the client address or the user name. */
export interface LockTarget {
  readonly by: LockScope
  /** Failure counter key (also the memory store's key). */
  readonly failures: string
  /** Lease set key. */
  readonly leases: string
  /** Failures within the window at which this target is locked. */
  readonly max: number
}

export type Admission =
  /** A lease was taken on every target: the password may be checked now. */
  | { readonly kind: 'admitted' }
  /** A target's failures reached its limit: refused unchecked. Nothing was written. */
  | { readonly kind: 'locked'; readonly by: LockScope; readonly failures: number }
  /** Only in-flight checks fill a limit: try again shortly. Nothing was written. */
  | { readonly kind: 'busy' }

export interface Settlement {
  /** The lease was still live on every target when the attempt finished. */
  readonly held: boolean
  /** Each target's failure count afterwards, in target order. */
  readonly failures: readonly number[]
}

export interface LockoutStore {
  /** Admits the attempt `id` only if failures + live leases < max on every target, taking a lease on each. */
  admit(targets: readonly LockTarget[], id: string, leaseMs: number): Promise<Admission>
  /** Gives `id`'s leases back and, if the password was wrong, counts one failure on every target. */
  finish(targets: readonly LockTarget[], id: string, failed: boolean): Promise<Settlement>
}
