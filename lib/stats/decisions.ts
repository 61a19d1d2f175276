// Counting decisions without coupling checks to the stats plugin: checks call
// countDecision(); gateway-stats, when loaded, installs the sink that turns it
// into a Redis counter ("check:<name>:<action>") in the same daily hash. The
// release service counts releases the same way.

import { STAT } from './fields'

type Sink = (field: string) => void

let sink: Sink | undefined

export function setDecisionSink(s: Sink | undefined): void {
  sink = s
}

export function countDecision(check: string, action: string): void {
  sink?.(`check:${check}:${action}`)
}

/** A message released from the quarantine into the delivery queue (called by the release service). */
export function countReleased(): void {
  sink?.(STAT.released)
}
