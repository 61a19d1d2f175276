// Brute-force lockout for the outbound relay's AUTH: wrong passwords are counted
// per client IP and per user name, in Redis so every node sees the same numbers,
// and at the limit AUTH is refused (right password or not) until the window
// started by the first failure ends.
//
// Requirements, and how this design meets them:
// - Only wrong passwords count. The old scheme counted every attempt before the
//   check and took successes back afterwards, so 20 parallel correct logins of
//   an internal server looked like 20 failures while in flight and were refused.
//   Here an attempt being checked holds a lease, not a failure; only a check
//   that fails turns its lease into a failure.
// - The bound holds in parallel, over connections and nodes: per target (IP,
//   user) an attempt is admitted to the password check only if
//   failures + live leases < limit, atomically taking a lease (one Redis script,
//   or one synchronous step in memory). Finishing removes the lease and, on a
//   failure, adds one failure in the same step: failures + leases never grows past
//   the limit, so no more than `limit` failed checks can ever be made (and
//   revealed) within a window, however many attempts run at once. This is a
//   counting semaphore of width limit - failures: with no failures a burst is
//   checked `limit` at a time (a per-key mutex would serialise it to one), and the
//   width shrinks exactly as failures accumulate.
// - In-flight attempts never lock a correct one out: if only leases fill the
//   limit, an attempt waits (short polls with jitter) for them to finish instead
//   of being refused. If its deadline passes first (the caller's budget, below
//   the hook timeout) it gets a temporary failure (454) that counts nothing.
//   Waiting gives up none of the bound: an attacker's parallel guesses wait too,
//   and are refused unchecked once failures reach the limit.
// - A refused-because-locked attempt writes nothing: it neither counts nor
//   extends the window.
// - Leases expire (LEASE_MS, by Redis' clock), so a crashed node cannot block a
//   key for longer. A check that outlives its lease may have had its slot reused,
//   so its result is withheld whatever it was (the caller answers it exactly as a
//   lockout; a wrong password is still counted): answering a late right password
//   differently from a late wrong one would make it one guess beyond the bound.
// - A success resets nothing: otherwise an attacker holding one valid account
//   could reset the per-IP count between guesses at other accounts.
// - Without Redis (not configured, or a call failing) the same contract runs in
//   process memory with the same windows: the limit then holds per process, and
//   the operator is warned at most every 30 s. Never a crash, never an open relay.
//   Failures counted in memory keep locking after Redis answers again (it may
//   come back empty: restarted without saving, a failover): an outage weakens
//   only the cross-node view, it never resets a lockout.

import { randomUUID } from 'node:crypto'

import type Redis from 'ioredis'

import { RedisOrMemory } from '../redis/fallback'
import { USER_NAME } from './credentials'
import { MemoryLockoutStore } from './lockout-memory'
import { RedisLockoutStore, lockedBy } from './lockout-redis'
import type { Admission, LockScope, LockTarget } from './lockout-store'

export type { LockScope } from './lockout-store'

export interface LockoutPolicy {
  /** Failures per client IP and window at which AUTH is refused; 0 = not counted. */
  maxPerIp: number
  /** Failures per user name (from any client) and window; 0 = not counted. */
  maxPerUser: number
  windowSeconds: number
}

export interface LockoutKeys {
  authFailuresByIp(ip: string): string
  authFailuresByUser(user: string): string
  authLeasesByIp(ip: string): string
  authLeasesByUser(user: string): string
}

export type AttemptOutcome =
  /** Refused without checking the password: `by` reached its limit. Nothing counted. */
  | { readonly kind: 'locked'; readonly by: LockScope; readonly failures: number }
  /** Not checked: in-flight checks kept the limit full until the deadline. Nothing counted. */
  | { readonly kind: 'busy' }
  | { readonly kind: 'succeeded' }
  /** The password was right, but the check outlived its lease: not accepted, nothing counted (see above). */
  | { readonly kind: 'late' }
  /**
   * Wrong password, counted. `locked`: this failure reached a limit. `late`: its
   * lease had expired before it was counted, so the result must not be revealed.
   */
  | { readonly kind: 'failed'; readonly late: boolean; readonly locked?: { readonly by: LockScope; readonly failures: number } }

export interface LockoutOptions {
  /** Longest an attempt waits for in-flight checks before a temporary failure, unless attempt() is given its own (ms). */
  waitMs?: number
  /** How long an admitted check may take before its lease expires (ms). */
  leaseMs?: number
  /** Monotonic ms for the wait deadline and the memory store; injected by tests. */
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  /** Most keys the memory store holds. */
  maxKeys?: number
}

// The adapter's 20 s hook timeout less ~3 s for the password check and the reply:
// what waiting, and the caller's failure delay after a wrong password, may share.
// Without a caller's budget, the worst case (a 10 s failure delay) is assumed.
export const WAIT_BUDGET_MS = 17_000
const WAIT_MS = WAIT_BUDGET_MS - 10_000
// A scrypt check takes ~50-100 ms; 10 s only pass on a stalled or crashed node.
export const LEASE_MS = 10_000
const POLL_MIN_MS = 10
const POLL_MAX_MS = 100

type Admitted = { kind: 'admitted'; where: 'redis' | 'memory' }

export class AuthLockout {
  private readonly shared: RedisOrMemory
  private readonly memory: MemoryLockoutStore
  private readonly waitMs: number
  private readonly leaseMs: number
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly random: () => number

  /**
   * @param redis the shared client; undefined when Redis is not configured (memory only)
   * @param warn  told (at most every 30 s) when Redis fails and memory counts instead
   */
  constructor(
    redis: (() => Redis) | undefined,
    private readonly keys: LockoutKeys,
    readonly policy: LockoutPolicy,
    warn: (message: string) => void,
    opts: LockoutOptions = {},
  ) {
    this.waitMs = opts.waitMs ?? WAIT_MS
    this.leaseMs = opts.leaseMs ?? LEASE_MS
    this.now = opts.now ?? (() => performance.now())
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.random = opts.random ?? Math.random
    this.shared = new RedisOrMemory(redis, 'auth lockout', warn)
    this.memory = new MemoryLockoutStore({ windowMs: policy.windowSeconds * 1000, now: this.now, ...(opts.maxKeys ? { maxKeys: opts.maxKeys } : {}) })
  }

  /**
   * One AUTH attempt: waits for admission, runs `verify` (the password check)
   * only if admitted, and records its result. A throwing `verify` gives its lease
   * back uncounted and throws on. `waitMs`: how long this attempt may wait for
   * in-flight checks (callers pass what their time budget leaves).
   */
  async attempt(ip: string, user: string, verify: () => Promise<boolean>, waitMs = this.waitMs): Promise<AttemptOutcome> {
    const targets = this.targets(ip, user)
    if (targets.length === 0) return (await verify()) ? { kind: 'succeeded' } : { kind: 'failed', late: false }
    const id = randomUUID()
    const admission = await this.admit(targets, id, waitMs)
    if (admission.kind !== 'admitted') return admission
    let ok: boolean
    try {
      ok = await verify()
    } catch (err) {
      await this.finish(admission, targets, id, false)
      throw err
    }
    const { held, failures } = await this.finish(admission, targets, id, !ok)
    if (ok) return held ? { kind: 'succeeded' } : { kind: 'late' }
    const i = targets.findIndex((t, n) => (failures[n] ?? 0) >= t.max)
    const locked = i >= 0 ? { by: targets[i]!.by, failures: failures[i]! } : undefined
    return { kind: 'failed', late: !held, ...(locked && { locked }) }
  }

  /**
   * An attempt whose password is already known to be right (CredentialStore.knownValid:
   * the same password verified within verified_cache_ttl). No check is made, so no
   * lease is needed and nothing can be revealed beyond the bound; only the lock is
   * asked (one MGET, instead of the admit and finish scripts): a locked target still
   * refuses the right password, exactly as attempt() does. An attacker's guess that
   * is not the remembered password never comes here; it goes through attempt().
   */
  async attemptKnown(ip: string, user: string): Promise<Extract<AttemptOutcome, { kind: 'locked' | 'succeeded' }>> {
    const targets = this.targets(ip, user)
    const here = this.memory.lockedHere(targets)
    if (here) return { kind: 'locked', ...here }
    const { value } = await this.shared.run(
      (r) => lockedBy(r, targets),
      async () => this.memory.lockedHere(targets),
    )
    return value ? { kind: 'locked', ...value } : { kind: 'succeeded' }
  }

  private async admit(targets: LockTarget[], id: string, waitMs: number): Promise<Admitted | Exclude<Admission, { kind: 'admitted' }>> {
    const deadline = this.now() + waitMs
    for (let round = 0; ; round++) {
      // what this process counted during a Redis outage is a floor Redis' own count cannot lower
      const here = this.memory.lockedHere(targets)
      if (here) return { kind: 'locked', ...here }
      const { value, where } = await this.shared.run(
        (r) => new RedisLockoutStore(r, this.policy.windowSeconds).admit(targets, id, this.leaseMs),
        () => this.memory.admit(targets, id, this.leaseMs),
      )
      if (value.kind === 'admitted') return { kind: 'admitted', where }
      if (value.kind === 'locked') return value
      const left = deadline - this.now()
      if (left <= 0) return value
      // backoff with jitter: parallel waiters (one server's burst) do not poll in lockstep
      const cap = Math.min(POLL_MAX_MS, POLL_MIN_MS * 2 ** round)
      await this.sleep(Math.min(left, cap / 2 + (this.random() * cap) / 2))
    }
  }

  /** Settles in the store that admitted; a Redis failure here still counts the failure in memory. */
  private async finish(admitted: Admitted, targets: LockTarget[], id: string, failed: boolean) {
    if (admitted.where === 'memory') return this.memory.finish(targets, id, failed)
    const { value } = await this.shared.run(
      (r) => new RedisLockoutStore(r, this.policy.windowSeconds).finish(targets, id, failed),
      () => this.memory.finish(targets, id, failed), // no lease there: held=false, a failure is withheld
    )
    return value
  }

  /**
   * The counters that apply. A user name that can never exist (not a valid
   * name) is not counted by name: it protects no account, and the per-IP count
   * still catches whoever sends it.
   */
  private targets(ip: string, user: string): LockTarget[] {
    const out: LockTarget[] = []
    if (this.policy.maxPerIp > 0) out.push({ by: 'ip', failures: this.keys.authFailuresByIp(ip), leases: this.keys.authLeasesByIp(ip), max: this.policy.maxPerIp })
    if (this.policy.maxPerUser > 0 && USER_NAME.test(user)) {
      out.push({ by: 'user', failures: this.keys.authFailuresByUser(user), leases: this.keys.authLeasesByUser(user), max: this.policy.maxPerUser })
    }
    return out
  }
}
