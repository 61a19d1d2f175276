// Inspects one message's MIME parts as Haraka parses them: the names and types
// of all parts (attachments, inline parts, parts of attached messages), the
// first bytes of every attachment (programs and archives are recognised by
// content, not name), ZIP archives (see archive-scan.ts) and attached messages
// (message/rfc822, parsed with the same parser, within the message's budget of
// parts and bytes). It checks that the parser read each part as mail readers
// will (mime-structure.ts): what it may have missed was never inspected. It
// also collects the text of the message's own text parts for the body rules.
// It only reports; the plugin turns the report into findings and the
// configured actions decide.

import { inspectZip, isZipName, ScanBudget, type ArchiveIssue, type ArchiveLimits, type ArchiveMember, type ArchiveSink } from './archive-scan'
import type { AttachmentPolicy, Block } from './attachment-policy'
import { baseMimeType, namesInHeaders } from './filename'
import { MAX_MIME_DEPTH, parseMessage, type AttachmentStart, type AttachmentStream, type MimePart } from './mime'
import { structureProblem } from './mime-structure'
import { sniff, SNIFF_BYTES } from './sniff'

export interface MessageScanOptions {
  readonly policy: AttachmentPolicy
  /** Limits for looking inside archives and attached messages; undefined = do not look inside. */
  readonly archives: ArchiveLimits | undefined
  /** Characters of each text part kept for the body rules; 0 = keep none. */
  readonly maxTextChars: number
  /** Report parts the parser may have read differently from mail readers (as 'malformed' or 'limits' issues). */
  readonly checkStructure: boolean
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

/** Where a part sits in its parse. */
interface Place {
  /** Nesting level in its parse (the message itself is 0). */
  readonly depth: number
  /** Its parent is a multipart/digest, whose parts are attached messages unless they say otherwise. */
  readonly inDigest: boolean
  /** Check its structure (not when the parse was cut short: the parts it left open are not malformed). */
  readonly structure: boolean
}

export class MessageScan implements ArchiveSink {
  private readonly blocked: BlockedItem[] = []
  private readonly issues: ArchiveIssue[] = []
  private readonly pending: Promise<void>[] = []
  private readonly failures: unknown[] = []
  /** Parts the parser handed over as attachments (streams); the others it kept as text. */
  private readonly streamed = new WeakSet<MimePart>()
  private readonly budget: ScanBudget | undefined

  constructor(private readonly opts: MessageScanOptions) {
    this.budget = opts.archives ? new ScanBudget(opts.archives) : undefined
  }

  /** For `transaction.attachment_hooks()`: called by Haraka's parser for each attachment of the message. */
  readonly onAttachment: AttachmentStart = (ct, filename, part, stream) => this.attachment([], ct, filename, part, stream)

  /**
   * Completes the scan once the whole message has been parsed (`root` is
   * `transaction.body`): checks every part's names and type, waits for archive
   * and attached-message inspection, and returns what was found.
   */
  async finish(root: MimePart | null): Promise<ScanReport> {
    const texts: string[] = []
    if (root) this.walk(root, [], texts, { depth: 0, inDigest: false, structure: this.opts.checkStructure })
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0))
    if (this.failures.length > 0) throw this.failures[0]
    return { blocked: this.blocked, issues: this.issues, texts }
  }

  member(m: ArchiveMember): void {
    const block = this.opts.policy.checkNames(m.names) ?? this.opts.policy.checkContent(m.content)
    if (block) this.block(block, m.path)
  }

  issue(i: ArchiveIssue): void {
    if (this.issues.length < MAX_KEPT) this.issues.push(i)
  }

  private block(block: Block, path: readonly string[]): void {
    if (this.blocked.length < MAX_KEPT) this.blocked.push({ block, path })
  }

  /** Reads the start of an attachment; keeps the whole of it only if it is an archive or a message to look into. */
  private attachment(prefix: readonly string[], ct: string, filename: string, part: MimePart, stream: AttachmentStream): void {
    this.streamed.add(part)
    const names = namesOf(part, filename)
    const path = [...prefix, labelOf(names, ct)]
    const limits = this.opts.archives
    const isMessage = MESSAGE_TYPES.has(baseMimeType(ct))
    const zipNamed = names.some(isZipName)
    let chunks: Buffer[] = []
    let size = 0
    type State = 'sniffing' | 'zip' | 'message' | 'done'
    let state: State = 'sniffing'

    /** What to do with the rest of the attachment, once its first bytes are known. */
    const decide = (): State => {
      const content = sniff(Buffer.concat(chunks).subarray(0, SNIFF_BYTES))
      const block = this.opts.policy.checkContent(content)
      if (block) this.block(block, path)
      if (!limits) return 'done'
      if (content === 'zip') return 'zip'
      if (zipNamed) this.issue({ problem: 'corrupt', path, detail: 'named like a ZIP archive but is not one' })
      else if (isMessage) return 'message'
      return 'done'
    }

    stream.on('data', (chunk: Buffer) => {
      if (state === 'done') return
      chunks.push(chunk)
      size += chunk.length
      if (state === 'sniffing' && size >= SNIFF_BYTES) state = decide()
      if (state === 'done') chunks = []
      else if (limits && state !== 'sniffing' && size > limits.maxArchiveBytes) {
        this.issue({ problem: 'limits', path, detail: `larger than ${limits.maxArchiveBytes} bytes` })
        state = 'done'
        chunks = []
      }
    })
    // Only emitted if a reader paused the stream too long (this one never pauses): never let it pass unnoticed.
    stream.on('error', (err: unknown) => {
      this.failures.push(err)
      state = 'done'
      chunks = []
    })
    stream.on('end', () => {
      if (state === 'sniffing') state = decide()
      const data = Buffer.concat(chunks)
      chunks = []
      if (state === 'zip') this.track(inspectZip(data, path, this.budget!, this))
      else if (state === 'message') this.track(this.attachedMessage(data, path))
    })
  }

  /** Every part's structure; every leaf part: names and declared type; text parts kept for the rules; inline attached messages opened. */
  private walk(part: MimePart, prefix: readonly string[], texts: string[] | undefined, at: Place): void {
    const declared = part.header.get_decoded('content-type')
    // RFC 2046 5.1.5: a digest's part without Content-Type is an attached message (the parser reads it as text)
    const ct = declared || (at.inDigest ? 'message/rfc822' : 'text/plain')
    const names = namesOf(part, '')
    const path = at.depth === 0 && prefix.length === 0 ? ['(message)'] : at.depth === 0 ? prefix : [...prefix, labelOf(names, ct)]
    if (at.structure) {
      const problem = structureProblem(part, at.depth, MAX_MIME_DEPTH)
      if (problem) this.issue({ ...problem, path })
    }
    if (part.children.length > 0) {
      const inDigest = baseMimeType(declared) === 'multipart/digest'
      for (const child of part.children) this.walk(child, prefix, texts, { depth: at.depth + 1, inDigest, structure: at.structure })
      return
    }
    const block = this.opts.policy.checkNames(names) ?? this.opts.policy.checkMimeType(ct)
    if (block) this.block(block, path)
    if (this.streamed.has(part)) return

    // The parser kept this part as text: its bytes went through a charset decoder and cannot be inspected as a file.
    if (this.opts.archives && names.some(isZipName)) {
      this.issue({ problem: 'unsupported', path, detail: 'archive sent as a text part' })
    }
    const type = baseMimeType(ct)
    if (MESSAGE_TYPES.has(type)) {
      if (this.opts.archives) this.track(this.attachedMessage(Buffer.from(part.bodytext, 'utf8'), path))
    } else if (texts && this.opts.maxTextChars > 0 && (type.startsWith('text/') || type === '')) {
      texts.push(part.bodytext.slice(0, this.opts.maxTextChars))
    }
  }

  /** Parses an attached message and inspects it like the message itself, charging its bytes and parts to the budget. */
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
    const parsed = await parseMessage(raw, (ct, filename, part, stream) => this.attachment(path, ct, filename, part, stream), {
      takePart: () => budget.partsLeft-- > 0,
    })
    if (parsed.stopped) {
      const why = budget.partsLeft < 0 ? `more than ${limits.maxParts} MIME parts in attached messages` : parsed.stopped
      this.issue({ problem: 'limits', path, detail: `attached message not parsed to the end: ${why}` })
    }
    if (parsed.root) this.walk(parsed.root, path, undefined, { depth: 0, inDigest: false, structure: this.opts.checkStructure && !parsed.stopped })
  }

  /** Background work must never reject unobserved (that would end the Haraka process). */
  private track(work: Promise<void>): void {
    this.pending.push(work.catch((err: unknown) => void this.failures.push(err)))
  }
}

function namesOf(part: MimePart, filename: string): string[] {
  const names = namesInHeaders(part.header.get_decoded('content-disposition'), part.header.get_decoded('content-type'))
  if (filename && !names.includes(filename)) names.unshift(filename)
  return names
}

function labelOf(names: readonly string[], ct: string): string {
  return names[0] ?? `(unnamed ${baseMimeType(ct) || 'part'})`
}
