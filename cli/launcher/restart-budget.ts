// How often `gateway start` restarts a crashed instance: a crash (a bug hit by one
// message, the OOM killer) must not take the healthy instance down with it or
// stop mail until someone notices, but an instance that crashes again right
// after each start (a broken install, a poison message in its queue) must not
// loop forever either: after `max` restarts within `windowMs` the launcher gives
// up, stops everything and exits non-zero, so systemd (or the operator) sees it.

export interface RestartPlan {
  /** Milliseconds to wait before this restart: doubles with each restart in the window. */
  readonly delayMs: number
  /** This restart's number within the window (1 = first). */
  readonly nth: number
}

export class RestartBudget {
  private readonly restarts: number[] = []

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly baseDelayMs = 1000,
    private readonly maxDelayMs = 10_000,
  ) {}

  /** The next restart at time `now` (ms), or undefined once `max` restarts already happened within the window. */
  next(now: number): RestartPlan | undefined {
    while (this.restarts.length > 0 && now - this.restarts[0]! >= this.windowMs) this.restarts.shift()
    if (this.restarts.length >= this.max) return undefined
    this.restarts.push(now)
    const nth = this.restarts.length
    return { nth, delayMs: Math.min(this.baseDelayMs * 2 ** (nth - 1), this.maxDelayMs) }
  }
}
