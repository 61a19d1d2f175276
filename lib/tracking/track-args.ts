// The options of `gateway track` (see cli/track.ts), parsed without side effects
// so they are unit-tested; times are relative to the given now.

import type { TrackFilters } from './query'
import { parseTimeArg } from './time-arg'

export type ParsedTrackArgs = { filters: TrackFilters; json: boolean } | { error: string }

export function parseTrackArgs(args: readonly string[], nowMs: number): ParsedTrackArgs {
  const f: { -readonly [K in keyof TrackFilters]?: TrackFilters[K] } = {}
  let json = false
  let limit = 20
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--json') {
      json = true
      continue
    }
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    const value = inline ?? args[++i]
    if (value === undefined || value === '') return { error: `${flag} needs a value` }
    switch (flag) {
      case '--message-id':
        f.messageId = value
        break
      case '--from':
        f.from = value
        break
      case '--to':
        f.to = value
        break
      case '--client-ip':
        f.clientIp = value
        break
      case '--since':
      case '--until': {
        const t = parseTimeArg(value, nowMs)
        if (t === undefined) return { error: `${flag} ${JSON.stringify(value)}: not a relative time (1h, 7d) or an ISO date/time` }
        if (flag === '--since') f.since = t
        else f.until = t
        break
      }
      case '--limit':
        if (!/^\d{1,6}$/.test(value) || Number(value) < 1) return { error: `--limit ${JSON.stringify(value)}: a number from 1` }
        limit = Number(value)
        break
      default:
        return { error: `unknown option ${JSON.stringify(a)}` }
    }
  }
  return { filters: { ...f, limit }, json }
}

