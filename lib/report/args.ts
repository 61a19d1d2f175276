// The arguments of `gateway report`: the time range (relative or ISO, as `gateway
// track` takes them), an optional node, and the output format.

import { parseTimeArg } from '../tracking/time-arg'

export type ReportFormat = 'text' | 'json' | 'csv'

export interface ReportArgs {
  readonly sinceMs: number
  readonly untilMs: number
  /** Only this node's counters; undefined: the sum over every node. */
  readonly node: string | undefined
  readonly format: ReportFormat
}

export const REPORT_USAGE =
  'usage: gateway report [--since 1h|24h|7d|30d|DATE] [--until T] [--node NAME] [--json|--csv]   (default: --since 24h, until now)'

/** The parsed arguments, or the problem (for a usage error, exit 64). */
export function parseReportArgs(args: readonly string[], nowMs: number): ReportArgs | { problem: string } {
  let since = '24h'
  let until: string | undefined
  let node: string | undefined
  let format: ReportFormat = 'text'
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const value = () => {
      const v = args[++i]
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`)
      return v
    }
    try {
      if (a === '--since') since = value()
      else if (a === '--until') until = value()
      else if (a === '--node') node = value()
      else if (a === '--json' || a === '--csv') {
        if (format !== 'text') return { problem: 'choose one of --json and --csv' }
        format = a === '--json' ? 'json' : 'csv'
      } else return { problem: `unknown argument ${JSON.stringify(a)}` }
    } catch (err) {
      return { problem: (err as Error).message }
    }
  }
  const sinceMs = parseTimeArg(since, nowMs)
  if (sinceMs === undefined) return { problem: `--since ${JSON.stringify(since)} is neither a duration (90m, 24h, 7d) nor a date` }
  const untilMs = until === undefined ? nowMs : parseTimeArg(until, nowMs)
  if (untilMs === undefined) return { problem: `--until ${JSON.stringify(until)} is neither a duration nor a date` }
  if (untilMs < sinceMs) return { problem: '--until is before --since' }
  if (node !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(node)) return { problem: `--node ${JSON.stringify(node)} is not a node name` }
  return { sinceMs, untilMs, node, format }
}
