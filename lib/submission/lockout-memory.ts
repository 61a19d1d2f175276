// The AUTH lockout's storage in process memory: the same admit/finish contract
// as the Redis store (lockout-store.ts), for a gateway without Redis and for
// attempts made while Redis is unreachable. Node runs each call to completion
// on one thread, so admit and finish are atomic here without locks.
//
// Bounded: failure counters are a WindowedCounter (expiring, capped). Leases
// exist only for attempts in flight in this process (at most two per open
// connection), are dropped when they expire and their map entry when it empties.

import { WindowedCounter, type WindowedCounterOptions } from '../redis/windowed-counter'
import type { Admission, LockoutStore, LockTarget, Settlement } from './lockout-store'

export class MemoryLockoutStore implements LockoutStore {
  private readonly failures: WindowedCounter
  /** Lease set key -> attempt id -> lease expiry. Maps: keys are client input. */
  private readonly leases = new Map<string, Map<string, number>>()
  private readonly now: () => number

  constructor(opts: WindowedCounterOptions) {
    this.now = opts.now ?? (() => performance.now())
    this.failures = new WindowedCounter({ ...opts, now: this.now })
  }

  admit(targets: readonly LockTarget[], id: string, leaseMs: number): Promise<Admission> {
    const now = this.now()
    for (const t of targets) {
      const failures = this.failures.get(t.failures)
      if (failures >= t.max) return Promise.resolve({ kind: 'locked', by: t.by, failures })
    }
    if (targets.some((t) => this.failures.get(t.failures) + this.live(t.leases, now).size >= t.max)) return Promise.resolve({ kind: 'busy' })
    for (const t of targets) {
      const set = this.live(t.leases, now)
      set.set(id, now + leaseMs)
      this.leases.set(t.leases, set)
    }
    return Promise.resolve({ kind: 'admitted' })
  }

  /**
   * The first target whose failures counted in this process reached its limit.
   * AuthLockout asks this before Redis: failures counted here while Redis failed
   * must still lock once Redis answers again (restarted empty, or a failover),
   * or an outage would end in a window of free guesses.
   */
  lockedHere(targets: readonly LockTarget[]): { by: LockTarget['by']; failures: number } | undefined {
    for (const t of targets) {
      const failures = this.failures.get(t.failures)
      if (failures >= t.max) return { by: t.by, failures }
    }
    return undefined
  }

  finish(targets: readonly LockTarget[], id: string, failed: boolean): Promise<Settlement> {
    const now = this.now()
    let held = true
    const failures = targets.map((t) => {
      const set = this.leases.get(t.leases)
      const expiry = set?.get(id)
      if (expiry === undefined || expiry <= now) held = false
      set?.delete(id)
      if (set?.size === 0) this.leases.delete(t.leases)
      return failed ? this.failures.increment(t.failures) : this.failures.get(t.failures)
    })
    return Promise.resolve({ held, failures })
  }

  /** The live leases of one key (expired ones dropped); a new, unregistered map when there are none. */
  private live(key: string, now: number): Map<string, number> {
    const set = this.leases.get(key)
    if (!set) return new Map()
    for (const [id, expiry] of set) if (expiry <= now) set.delete(id)
    if (set.size === 0) this.leases.delete(key)
    return set
  }
}
