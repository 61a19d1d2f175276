// How a scanner plugin logs an engine that gives no verdict: an ERROR when it
// stops answering, INFO for each further message while it stays down, a NOTICE
// when it answers again. A scanner `gateway start` announced as OFF starts out
// "down as expected": that is said once at start, so not even the first message
// is an ERROR. (The per-message decision line records every unscanned message.)

export type FailureLevel = 'error' | 'info'

export class Availability {
  private down: boolean

  /** @param offAtStart the launcher found no engine (banner: scanning OFF) */
  constructor(offAtStart: boolean) {
    this.down = offAtStart
  }

  /** A scan without verdict: 'error' for the first of an outage, 'info' while it lasts. */
  failed(): FailureLevel {
    if (this.down) return 'info'
    this.down = true
    return 'error'
  }

  /** A verdict: true when it ends an outage (or the OFF state), to be said once. */
  answered(): boolean {
    const was = this.down
    this.down = false
    return was
  }
}
