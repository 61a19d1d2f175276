// Order statistics for the report: median, percentiles, spread.

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  // nearest rank: p99 of 100 samples is the 99th, never an interpolation
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)))
  return sorted[rank - 1]!
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

export interface Spread {
  median: number
  min: number
  max: number
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN }
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) }
}
