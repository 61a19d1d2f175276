// Looks inside ZIP archives, nested ones too, for the names and kinds of the
// files they hold, and for archive bombs (archive-bomb.ts: sizes and compression
// ratios, declared and real). Work is bounded per message: entries listed,
// nesting depth, bytes kept in memory (a shared ScanBudget, which also bounds the
// parsing of attached messages), and bytes inflated (at most what the entries
// declare, which is itself bounded, before anything is inflated). Only the first
// few KiB of each entry are kept (to recognise archives and programs by content),
// and whole entries that are archives; the rest of an entry is inflated only to
// count its real size. What cannot be inspected (encrypted, corrupt, over a
// limit) and bombs are reported as issues; deciding what to do is the policy's job.

import { baseName, extensionsOf } from './filename'
import { declaredBombs, realSizeExceeded, type BombLimits } from './archive-bomb'
import { inflateBounded, inflateMeasured, type Inflated } from './inflate'
import { sniff, SNIFF_BYTES, type Sniffed } from './sniff'
import { entryData, localName, readZipDirectory, ZipError, type ZipEntry } from './zip'

export interface ArchiveLimits extends BombLimits {
  /** Deepest nesting inspected: 1 = the attached archive only. */
  readonly maxDepth: number
  /** Entries listed over all archives of one message. */
  readonly maxEntries: number
  /** Bytes decompressed over all archives, and bytes of attached messages parsed, of one message. */
  readonly maxBytes: number
  /** MIME parts read over all attached messages of one message. */
  readonly maxParts: number
  /** Largest single archive held in memory for inspection. */
  readonly maxArchiveBytes: number
}

/**
 * 'malformed': MIME structure that mail clients read in different ways (two Content-Type headers on one part).
 * 'bomb': an archive that expands far beyond its size (archive-bomb.ts); not "cannot be inspected": it was, and is hostile.
 */
export type ArchiveProblem = 'encrypted' | 'corrupt' | 'unsupported' | 'limits' | 'malformed' | 'bomb'

export interface ArchiveIssue {
  readonly problem: ArchiveProblem
  /** Attachment name, then entry names down to the archive concerned. */
  readonly path: readonly string[]
  /** For logs. */
  readonly detail: string
}

export interface ArchiveMember {
  readonly path: readonly string[]
  /** Every name the entry carries (central directory, Unicode Path, local header). */
  readonly names: readonly string[]
  /** What its first bytes are; 'unknown' if they could not be read (encrypted, unsupported method). */
  readonly content: Sniffed | 'unknown'
}

/** What is left of a message's inspection allowance; shared by all its archives. */
export class ScanBudget {
  entriesLeft: number
  bytesLeft: number
  partsLeft: number
  /** Uncompressed bytes the archives of this message may still declare, over all nesting levels. */
  expandedLeft: number
  /** A bomb was found: nothing more is inflated for this message. */
  bombFound = false
  constructor(readonly limits: ArchiveLimits) {
    this.entriesLeft = limits.maxEntries
    this.bytesLeft = limits.maxBytes
    this.partsLeft = limits.maxParts
    this.expandedLeft = limits.maxExpandedBytes
  }
}

export interface ArchiveSink {
  member(m: ArchiveMember): void
  issue(i: ArchiveIssue): void
}

/** A name that promises a ZIP archive: its content must then be one, and is inspected. */
export function isZipName(name: string): boolean {
  return extensionsOf(name).includes('zip')
}

/** Lists `data` (a ZIP archive found at `path`) into `sink`, descending into nested archives. */
export async function inspectZip(data: Buffer, path: readonly string[], budget: ScanBudget, sink: ArchiveSink): Promise<void> {
  let entries: ZipEntry[]
  try {
    entries = readZipDirectory(data, budget.entriesLeft)
  } catch (err) {
    if (!(err instanceof ZipError)) throw err
    sink.issue({ problem: err.problem, path, detail: err.message })
    return
  }
  budget.entriesLeft -= entries.length

  // Sizes first, from the directory alone: a bomb is found before any of it is inflated.
  const bombs = budget.bombFound ? [] : declaredBombs(entries, path, budget)
  for (const b of bombs) sink.issue(b)
  if (bombs.length > 0) budget.bombFound = true

  let encryptedSeen = false
  let budgetReported = false
  for (const entry of entries) {
    if (entry.isDirectory) continue
    const names = [entry.name, ...entry.otherNames]
    const memberPath = [...path, entry.name]
    let stored: Buffer
    try {
      const local = localName(data, entry)
      if (!names.includes(local)) names.push(local)
      stored = entryData(data, entry)
    } catch (err) {
      if (!(err instanceof ZipError)) throw err
      sink.member({ path: memberPath, names, content: 'unknown' })
      sink.issue({ problem: err.problem, path, detail: err.message })
      continue
    }
    const archiveNamed = names.some(isZipName)

    if (entry.encrypted) {
      sink.member({ path: memberPath, names, content: 'unknown' })
      if (!encryptedSeen) sink.issue({ problem: 'encrypted', path, detail: `encrypted entry ${JSON.stringify(entry.name)}` })
      encryptedSeen = true
      continue
    }
    if (entry.method !== 0 && entry.method !== 8) {
      sink.member({ path: memberPath, names, content: 'unknown' })
      if (archiveNamed) sink.issue({ problem: 'unsupported', path: memberPath, detail: `compression method ${entry.method}` })
      continue
    }

    if (budget.bombFound) {
      // names are still checked (they cost nothing); nothing more is inflated
      sink.member({ path: memberPath, names, content: 'unknown' })
      continue
    }
    if (budget.bytesLeft <= 0 && stored.length > 0) {
      // names are still checked (they cost nothing more); contents no longer
      sink.member({ path: memberPath, names, content: 'unknown' })
      if (!budgetReported) sink.issue({ problem: 'limits', path, detail: `decompression budget of ${budget.limits.maxBytes} bytes used up` })
      budgetReported = true
      continue
    }
    const head = await measure(stored, entry, Math.min(SNIFF_BYTES, budget.bytesLeft), budget)
    if (head === 'corrupt') {
      sink.member({ path: memberPath, names, content: 'unknown' })
      sink.issue({ problem: 'corrupt', path, detail: `cannot decompress ${JSON.stringify(entry.name)}` })
      continue
    }
    if (head.lied) {
      sink.member({ path: memberPath, names, content: 'unknown' })
      sink.issue(realSizeExceeded(entry, memberPath))
      budget.bombFound = true
      continue
    }
    const content = sniff(head.data)
    sink.member({ path: memberPath, names, content })
    if (content !== 'zip' && !archiveNamed) continue

    if (content !== 'zip') {
      sink.issue({ problem: 'corrupt', path: memberPath, detail: `${JSON.stringify(baseName(entry.name))} is named like an archive but is not one` })
      continue
    }
    if (memberPath.length > budget.limits.maxDepth) {
      sink.issue({ problem: 'limits', path: memberPath, detail: `archive nested deeper than ${budget.limits.maxDepth}` })
      continue
    }
    const whole = head.complete ? head : await take(stored, entry.method, Math.min(budget.bytesLeft, budget.limits.maxArchiveBytes), budget)
    if (whole === 'corrupt') {
      sink.issue({ problem: 'corrupt', path: memberPath, detail: 'cannot decompress' })
      continue
    }
    if (!whole.complete) {
      sink.issue({ problem: 'limits', path: memberPath, detail: `nested archive larger than the remaining budget (${budget.bytesLeft} bytes)` })
      continue
    }
    await inspectZip(whole.data, memberPath, budget, sink)
  }
}

/**
 * The first `keep` bytes of an entry (charged to the budget), and whether it holds
 * more than it declares: a deflated entry is inflated (counting, not keeping) up
 * to its declared size, and one byte more is a lie. The declared sizes of the
 * message's archives are bounded (declaredBombs), so this work is too.
 */
async function measure(stored: Buffer, entry: ZipEntry, keep: number, budget: ScanBudget): Promise<(Inflated & { lied: boolean }) | 'corrupt'> {
  if (entry.method === 0) {
    const head = await take(stored, 0, keep, budget)
    return head === 'corrupt' ? head : { ...head, lied: false }
  }
  let m
  try {
    m = await inflateMeasured(stored, Math.max(0, keep), entry.uncompressedSize)
  } catch {
    return 'corrupt'
  }
  budget.bytesLeft -= m.head.length
  return { data: m.head, complete: m.ended && m.produced <= keep, lied: !m.ended }
}

/** Up to `limit` bytes of an entry's content, charged to the budget. */
async function take(stored: Buffer, method: number, limit: number, budget: ScanBudget): Promise<Inflated | 'corrupt'> {
  let out: Inflated
  if (method === 0) {
    out = { data: stored.subarray(0, Math.max(0, limit)), complete: stored.length <= limit }
  } else {
    try {
      out = await inflateBounded(stored, Math.max(0, limit))
    } catch {
      return 'corrupt'
    }
  }
  budget.bytesLeft -= out.data.length
  return out
}
