// What gateway-stats counts once per message when it ends (accepted, quarantined
// or refused at or after MAIL), from the decisions it carries: the spam band, an
// infected verdict, and for refused or quarantined messages the filter ROI.

import type { Decision } from '../policy/marks'
import { sclBandField, sclBandOf, STAT } from './fields'
import { roiFields } from './roi'

export function messageEndFields(decisions: readonly Decision[], stopped: boolean): string[] {
  const fields: string[] = []
  // one band per scanned message: the last spam decision (a message is scanned once)
  const spam = [...decisions].reverse().find((d) => d.check === 'spam' && /^scl_\d$/.test(d.result))
  if (spam) fields.push(sclBandField(sclBandOf(Number(spam.result.slice(4)))))
  if (decisions.some((d) => d.check === 'virus' && d.result === 'infected')) fields.push(STAT.viruses)
  if (stopped) fields.push(...roiFields(decisions))
  return fields
}
