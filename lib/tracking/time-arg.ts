// The times `gateway track --since/--until` take: relative to now ("90s", "15m",
// "1h", "24h", "7d", "2w") or an ISO date or date-time ("2026-12-01",
// "2026-12-01T08:00:00Z"; without a zone, local time, as Date reads it).

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** Milliseconds since the epoch, or undefined when `text` is neither form. */
export function parseTimeArg(text: string, nowMs: number): number | undefined {
  const rel = /^(\d{1,9})([smhdw])$/.exec(text.trim())
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return undefined
  const ms = Date.parse(text.trim())
  return Number.isNaN(ms) ? undefined : ms
}
