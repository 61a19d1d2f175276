// Recognises archive bombs: a small ZIP that expands to far more than any real
// attachment (1 MB holding 1 GB of zeros; archives nested to multiply it). The
// sizes an archive declares in its central directory are checked before anything
// is inflated: the compression ratio of each entry and of each archive as a
// whole, and the uncompressed bytes declared over all archives of the message,
// nested ones included. An entry that holds more than it declares (which a bomb
// does to slip past such checks) is caught while it is inflated: archive-scan.ts
// stops inflating one byte past the declared size.

import type { ZipEntry } from './zip'

export interface BombLimits {
  /** Largest uncompressed/compressed ratio of a deflated entry, and of an archive's entries together. */
  readonly maxRatio: number
  /** The ratio is judged only from this many uncompressed bytes on (small files compress very well too). */
  readonly ratioMinBytes: number
  /** Uncompressed bytes declared over all archives of one message, nested ones included. */
  readonly maxExpandedBytes: number
}

/** What archive-scan's budget holds of the bomb checks. */
export interface ExpandedBudget {
  readonly limits: BombLimits
  /** Uncompressed bytes the message's archives may still declare. */
  expandedLeft: number
}

export interface BombIssue {
  readonly problem: 'bomb'
  readonly path: readonly string[]
  readonly detail: string
}

/** Bombs visible from the directory of the archive at `path`; charges its declared size to `budget`. */
export function declaredBombs(entries: readonly ZipEntry[], path: readonly string[], budget: ExpandedBudget): BombIssue[] {
  const { maxRatio, ratioMinBytes, maxExpandedBytes } = budget.limits
  const issues: BombIssue[] = []
  let expanded = 0
  let compressed = 0
  for (const e of entries) {
    if (e.isDirectory) continue
    expanded += e.uncompressedSize
    compressed += e.compressedSize
    if (e.method !== 0 && overRatio(e.uncompressedSize, e.compressedSize, maxRatio, ratioMinBytes)) {
      issues.push({ problem: 'bomb', path: [...path, e.name], detail: `declares ${e.uncompressedSize} bytes from ${e.compressedSize} (${ratio(e.uncompressedSize, e.compressedSize)}:1, limit ${maxRatio}:1)` })
    }
  }
  // many entries each just below ratioMinBytes add up to the same bomb
  if (issues.length === 0 && overRatio(expanded, compressed, maxRatio, ratioMinBytes)) {
    issues.push({ problem: 'bomb', path, detail: `entries declare ${expanded} bytes from ${compressed} (${ratio(expanded, compressed)}:1, limit ${maxRatio}:1)` })
  }
  budget.expandedLeft -= expanded
  if (budget.expandedLeft < 0) {
    issues.push({ problem: 'bomb', path, detail: `archives of the message expand to more than ${maxExpandedBytes} bytes` })
  }
  return issues
}

/** The entry produced more than it declares (found while inflating it, which stopped there). */
export function realSizeExceeded(entry: ZipEntry, path: readonly string[]): BombIssue {
  return { problem: 'bomb', path, detail: `declares ${entry.uncompressedSize} bytes but inflates to more` }
}

function overRatio(expanded: number, compressed: number, maxRatio: number, minBytes: number): boolean {
  return expanded >= minBytes && expanded > maxRatio * Math.max(1, compressed)
}

function ratio(expanded: number, compressed: number): number {
  return Math.round(expanded / Math.max(1, compressed))
}
