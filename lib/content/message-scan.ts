// Inspects one message as a mail client will show it (mime-reader.ts): the
// names and types of all its leaf parts (attachments, inline parts, parts of
// attached messages), the first bytes of every one of them (programs and
// archives are recognised by content), ZIP archives (archive-scan.ts), and
// attached messages (message/rfc822, message/global, digest parts), read the
// same way within the message's budget of parts and bytes. It collects the
// start of the message's own text parts for the body rules. A read stopped by
// a limit, and structure clients read in different ways, are issues: what was
// not read was not inspected. It only reports; the plugin turns the report
// into findings and the configured actions decide.

import { Readable } from 'node:stream'

import charset = require('libmime/lib/charset')

import { inspectZip, isZipName, ScanBudget, type ArchiveIssue, type ArchiveLimits, type ArchiveMember, type ArchiveSink } from './archive-scan'
import type { AttachmentPolicy, Block } from './attachment-policy'
import { readMime, type MimeLimits, type MimePart, type MimeRead, type PartSink } from './mime-reader'
import { PartCapture, type Captured } from './part-capture'

export interface MessageScanOptions {
  readonly policy: AttachmentPolicy
  /** Limits for looking inside archives and attached messages; undefined = do not look inside. */
  readonly archives: ArchiveLimits | undefined
  /** Characters of each text part kept for the body rules; 0 = keep none. */
  readonly maxTextChars: number
  /** Limits of reading the MIME structure, of the message and of each attached message. */
  readonly mime: MimeLimits
}

export interface BlockedItem {
  readonly block: Block
  /** Attachment name, then (inside archives or attached messages) the names down to the item. */
  readonly path: readonly string[]
}

export interface ScanReport {
  readonly blocked: readonly BlockedItem[]
  readonly issues: readonly ArchiveIssue[]
  /** The start of each text part of the message itself (for the body rules). */
  readonly texts: readonly string[]
}

/** Enough to name what was found; a message with thousands of hits is not described in full. */
const MAX_KEPT = 50
const MESSAGE_TYPES: ReadonlySet<string> = new Set(['message/rfc822', 'message/global'])
/** The most bytes one character takes in any charset a text part may use (UTF-8, UTF-16, GB18030). */
const MAX_BYTES_PER_CHAR = 4

/** Reads `message` (the whole message, as it will be delivered) to its end and reports what it found. */
export async function scanMessage(message: Readable, opts: MessageScanOptions): Promise<ScanReport> {
  const scan = new MessageScan(opts)
  await scan.message(message)
  return scan.report()
}

class MessageScan implements ArchiveSink {
  private readonly blocked: BlockedItem[] = []
  private readonly issues: ArchiveIssue[] = []
  private readonly texts: string[] = []
  private readonly budget: ScanBudget | undefined

  constructor(private readonly opts: MessageScanOptions) {
    this.budget = opts.archives ? new ScanBudget(opts.archives) : undefined
  }

  report(): ScanReport {
    return { blocked: this.blocked, issues: this.issues, texts: this.texts }
  }

  async message(input: Readable): Promise<void> {
    const read = await readMime(input, this.opts.mime, (part) => this.part(part, []))
    if (read.stopped) this.issue({ problem: 'limits', path: ['(message)'], detail: `message not read to the end: ${read.stopped.detail}` })
  }

  member(m: ArchiveMember): void {
    const block = this.opts.policy.checkNames(m.names) ?? this.opts.policy.checkContent(m.content)
    if (block) this.block(block, m.path)
  }

  issue(i: ArchiveIssue): void {
    // a bomb is kept even after many other issues: it has a finding (and action) of its own
    if (this.issues.length < MAX_KEPT || (i.problem === 'bomb' && !this.issues.some((k) => k.problem === 'bomb'))) this.issues.push(i)
  }

  private block(block: Block, path: readonly string[]): void {
    if (this.blocked.length < MAX_KEPT) this.blocked.push({ block, path })
  }

  /** One part of the message (`prefix` empty) or of an attached message (`prefix`: the path to it). */
  private part(part: MimePart, prefix: readonly string[]): PartSink | undefined {
    const own = prefix.length === 0
    const path = part.depth > 0 ? [...prefix, labelOf(part)] : own ? ['(message)'] : prefix
    if (part.contentTypeHeaders > 1) this.issue({ problem: 'malformed', path, detail: 'more than one Content-Type header' })
    if (part.multipart) return undefined

    const block = this.opts.policy.checkNames(part.names) ?? this.opts.policy.checkMimeType(part.type)
    if (block) this.block(block, path)

    const archives = this.opts.archives
    const zipNamed = part.names.some(isZipName)
    const isMessage = MESSAGE_TYPES.has(part.type)
    // like a client, the text the rules read is what a reader is shown as the message's text
    const isText = own && this.opts.maxTextChars > 0 && part.type.startsWith('text/') && part.disposition !== 'attachment'
    return new PartCapture(
      {
        startBytes: isText ? this.opts.maxTextChars * MAX_BYTES_PER_CHAR : 0,
        wholeIf: (content) => archives !== undefined && (content === 'zip' || (isMessage && !zipNamed)),
        maxWholeBytes: archives?.maxArchiveBytes ?? 0,
      },
      (captured) => this.inspect(captured, part, path, { zipNamed, isMessage, isText }),
    )
  }

  /** What a part's content shows, once it has been read. */
  private async inspect(c: Captured, part: MimePart, path: readonly string[], is: { zipNamed: boolean; isMessage: boolean; isText: boolean }): Promise<void> {
    const block = this.opts.policy.checkContent(c.content)
    if (block) this.block(block, path)
    if (is.isText) this.texts.push(charset.decode(c.data, part.charset || 'utf-8').slice(0, this.opts.maxTextChars))
    const limits = this.opts.archives
    if (!limits) return
    if (c.tooLarge) {
      this.issue({ problem: 'limits', path, detail: `larger than ${limits.maxArchiveBytes} bytes` })
    } else if (c.content === 'zip') {
      await inspectZip(c.data, path, this.budget!, this)
    } else if (is.zipNamed) {
      this.issue({ problem: 'corrupt', path, detail: 'named like a ZIP archive but is not one' })
    } else if (is.isMessage && c.whole) {
      await this.attachedMessage(c.data, path)
    }
  }

  /** Reads an attached message and inspects it like the message itself, charging its bytes and parts to the budget. */
  private async attachedMessage(raw: Buffer, path: readonly string[]): Promise<void> {
    const budget = this.budget!
    const limits = budget.limits
    if (path.length > limits.maxDepth) {
      this.issue({ problem: 'limits', path, detail: `attached message nested deeper than ${limits.maxDepth}` })
      return
    }
    if (raw.length > budget.bytesLeft) {
      this.issue({ problem: 'limits', path, detail: `attached message larger than the remaining budget (${Math.max(0, budget.bytesLeft)} bytes)` })
      return
    }
    budget.bytesLeft -= raw.length
    const partsLeft = Math.max(0, budget.partsLeft)
    const maxParts = Math.min(this.opts.mime.maxParts, partsLeft)
    const read: MimeRead =
      maxParts > 0
        ? await readMime(Readable.from([raw]), { ...this.opts.mime, maxParts }, (p) => this.part(p, path))
        : { parts: 0, stopped: { limit: 'parts', detail: '' } }
    budget.partsLeft -= read.parts
    if (!read.stopped) return
    // stopped by the shared budget rather than by the per-read limit: say so, and spend it
    const budgetSpent = read.stopped.limit === 'parts' && maxParts === partsLeft
    if (budgetSpent) budget.partsLeft = 0
    const why = budgetSpent ? `more than ${limits.maxParts} MIME parts in attached messages` : read.stopped.detail
    this.issue({ problem: 'limits', path, detail: `attached message not read to the end: ${why}` })
  }
}

/** How a part is named in findings: its first file name, else its type. */
function labelOf(part: MimePart): string {
  return part.names[0] ?? `(unnamed ${part.type})`
}
