// How other plugins report tracking events without depending on gateway-track
// (the pattern of lib/stats/decisions.ts): gateway-spool reports a quarantine,
// the release service a release, gateway-bounce a DSN it lets Haraka make.
// gateway-track, when loaded, installs the sink; without it these do nothing.
// Never throws: tracking must not change what happens to mail.

export interface QuarantineReport {
  readonly quarantineId: string
  readonly check: string
  readonly result: string
}

export interface ReleaseReport {
  /** The quarantine entry as stored (its recordId field, if any, links the release to the original record). */
  readonly entry: { readonly id: string; readonly messageId?: string }
  readonly by: string
  /** The delivery queue transaction it was queued as. */
  readonly txn: Haraka.Transaction
}

export interface TrackingSink {
  quarantined(c: Haraka.Connection, txn: Haraka.Transaction, q: QuarantineReport): void
  releasing(r: ReleaseReport): void
  released(r: ReleaseReport): void
  dsnSent(hmail: Haraka.QueuedMail, to: string): void
}

let sink: TrackingSink | undefined

export function setTrackingSink(s: TrackingSink | undefined): void {
  sink = s
}

function safely(f: (s: TrackingSink) => void): void {
  if (!sink) return
  try {
    f(sink)
  } catch {
    // observe only: a tracking bug must never reach the caller
  }
}

/** What to store with a quarantined message so its release is tracked on the same record. */
export function quarantineMeta(txn: Haraka.Transaction): { recordId: string } {
  return { recordId: txn.uuid }
}

export function trackQuarantine(c: Haraka.Connection, txn: Haraka.Transaction, q: QuarantineReport): void {
  safely((s) => s.quarantined(c, txn, q))
}

/** Before the released message is queued: it is marked as the original record's message. */
export function trackReleasing(r: ReleaseReport): void {
  safely((s) => s.releasing(r))
}

/** After the released message is in the delivery queue. */
export function trackRelease(r: ReleaseReport): void {
  safely((s) => s.released(r))
}

export function trackDsnSent(hmail: Haraka.QueuedMail, to: string): void {
  safely((s) => s.dsnSent(hmail, to))
}
