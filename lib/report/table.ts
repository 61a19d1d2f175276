// Aligned text tables for reports people read: a header, rows, numbers right-aligned.

export type Cell = string | number

/** The table as lines: columns padded to their widest cell; columns of numbers, percentages and times right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  const text = [header, ...rows].map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)))
  const widths = header.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)))
  const right = header.map((_, i) => i > 0 && rows.every((r) => typeof r[i] === 'number' || /^(-|[\d.,]+%?|\d{4}-\d\d-\d\d(T[\d:]+)?)$/.test(String(r[i] ?? ''))))
  return text.map((r) => r.map((c, i) => (right[i] ? (c ?? '').padStart(widths[i]!) : (c ?? '').padEnd(widths[i]!))).join('  ').trimEnd())
}

/** "12.5%" of `part` in `whole`, or "-" when whole is 0. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`
}

/** Bytes for people: "1.2 MiB". */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`
}

/** "1h02m", "1m15s", "40s": an age a person reads at a glance. */
export function humanSeconds(s: number): string {
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`
}
