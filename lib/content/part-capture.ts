// Keeps what the content checks need of one part's decoded bytes, and no more:
// its first bytes (programs and archives are recognised by content, whatever
// the name), the start of a text part for the body rules, and the whole part,
// up to a limit, only when it is to be looked into (an archive, an attached
// message). Whatever is not kept is not even decoded (the sink says so).

import type { PartSink } from './mime-reader'
import { sniff, SNIFF_BYTES, type Sniffed } from './sniff'

export interface CaptureOptions {
  /** Bytes kept from the start of the part (at least SNIFF_BYTES are). */
  readonly startBytes: number
  /** Whether, given what its first bytes are, the whole part is wanted. */
  readonly wholeIf: (content: Sniffed) => boolean
  /** Largest whole part kept. */
  readonly maxWholeBytes: number
}

export interface Captured {
  /** What its first bytes are. */
  readonly content: Sniffed
  /** The whole part when `whole`; otherwise its first bytes (at least SNIFF_BYTES of them, when it has that many). */
  readonly data: Buffer
  readonly whole: boolean
  /** The whole part was wanted but is larger than maxWholeBytes (then `data` is only its start). */
  readonly tooLarge: boolean
}

export class PartCapture implements PartSink {
  private chunks: Buffer[] = []
  private size = 0
  private content: Sniffed | undefined
  private wantWhole = false
  private tooLarge = false
  private truncated = false

  constructor(
    private readonly opts: CaptureOptions,
    private readonly onEnd: (captured: Captured) => Promise<void>,
  ) {}

  write(chunk: Buffer): boolean {
    this.chunks.push(chunk)
    this.size += chunk.length
    if (this.content === undefined && this.size >= SNIFF_BYTES) this.decide()
    if (this.content === undefined) return true
    if (this.wantWhole) {
      if (this.size <= this.opts.maxWholeBytes) return true
      this.tooLarge = true
    }
    const keep = Math.max(SNIFF_BYTES, this.opts.startBytes)
    if (this.size < keep) return true
    this.cut(keep)
    return false
  }

  async end(): Promise<void> {
    if (this.content === undefined) this.decide()
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.chunks = []
    await this.onEnd({ content: this.content!, data, whole: !this.truncated && !this.tooLarge, tooLarge: this.tooLarge })
  }

  private decide(): void {
    const head = Buffer.concat(this.chunks)
    this.chunks = [head]
    this.content = sniff(head.subarray(0, SNIFF_BYTES))
    this.wantWhole = this.opts.wholeIf(this.content)
  }

  /** Keeps only the first `bytes`: the rest of the part is not wanted. */
  private cut(bytes: number): void {
    this.chunks = [Buffer.concat(this.chunks, bytes)] // a copy of that length: the rest is released
    this.size = bytes
    this.truncated = true
  }
}
