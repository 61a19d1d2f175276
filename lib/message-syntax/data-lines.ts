// Reads the DATA of one message line by line, as the client sent it, before
// Haraka sees it, and hands Haraka only lines ending in CRLF. It notes what was
// wrong (bare LF, bare CR, NUL, a malformed header line) so the plugin can refuse
// the message at the end of DATA, and rewrites the lines so that nothing a
// lenient peer reads differently reaches the internal server:
// - End of DATA is only CRLF "." CRLF (RFC 5321 4.1.1.4). "." after a bare LF or
//   a bare CR, and "." followed by a bare LF, are content: they are dot-stuffed
//   so Haraka keeps them as text (the 2023 "SMTP smuggling" variants).
// - A bare CR or LF becomes CRLF (Postfix's `smtpd_forbid_bare_newline = normalize`).
// - NUL is removed when the policy says strip.
// - With header repair, a malformed header line ends the header section (an empty
//   line is inserted before it): the meaning every strict parser already gives it.
// Written by hand: this is a byte-level state machine over Haraka's own line
// splitting (connection.js _process_data splits on LF only); no library sits there.

import { isUtf8 } from 'node:buffer'

const CR = 0x0d
const LF = 0x0a
const DOT = 0x2e
const NUL = 0x00
const CRLF = Buffer.from('\r\n')
/** Header bytes whose fields may be kept for byte-exact relay (Haraka parses at most [headers] max_lines lines anyway). */
const MAX_HEADER_BYTES = 1024 * 1024

export type NulPolicy = 'reject' | 'strip'
export type HeaderPolicy = 'reject' | 'repair'

export interface DataLineOptions {
  readonly nul: NulPolicy
  readonly header: HeaderPolicy
  /**
   * Called with each header field (its lines, CRLF-ended, as Haraka stores them)
   * whose bytes are not valid UTF-8: Haraka's UTF-8 decoding alters it.
   */
  readonly onNonUtf8Field?: (field: Buffer) => void
}

/** What was wrong with the message as sent (each noted once). */
export interface DataFindings {
  bareLf: boolean
  bareCr: boolean
  nul: boolean
  /** The first malformed header line (printable form, cut short), when there was one. */
  malformedHeader: string | undefined
}

// RFC 5322 3.6.8: field-name = 1*ftext (printable US-ASCII except ":"); obs-optional
// (4.5.3) allows white space before the colon, which Haraka and the header firewall accept.
const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/

export class DataLineFilter {
  readonly findings: DataFindings = { bareLf: false, bareCr: false, nul: false, malformedHeader: undefined }
  /** The previous line ended in CRLF: the next byte starts a line in SMTP's sense. */
  private atLineStart = true
  private inHeaders = true
  private headerSeen = false
  /** The lines of the header field being read. */
  private field: Buffer[] = []
  /** Header bytes read so far: past MAX_HEADER_BYTES fields are no longer kept (memory stays bounded). */
  private headerBytes = 0

  constructor(private readonly opts: DataLineOptions) {}

  /**
   * One line as Haraka split it (ends with LF). Returns the CRLF lines to hand
   * to Haraka, in order; `.` CRLF at a true line start is returned unchanged and
   * ends DATA there.
   */
  feed(line: Buffer): Buffer[] {
    const n = line.length
    const crlf = n >= 2 && line[n - 1] === LF && line[n - 2] === CR
    const endsLf = n >= 1 && line[n - 1] === LF
    if (this.atLineStart && crlf && n === 3 && line[0] === DOT) {
      if (this.inHeaders) this.endHeaders() // a message of header fields only
      return [line]
    }

    // Nearly every line: CRLF-ended at a true line start, no other CR, no NUL. Haraka
    // gets exactly the bytes sent (the same Buffer, no copy: this runs for every line of
    // every message, issue 12); only a header line still needs looking at.
    if (crlf && this.atLineStart && line.indexOf(CR) === n - 2 && !line.includes(NUL)) {
      if (!this.inHeaders) return [line]
      const out: Buffer[] = []
      this.checkHeader(unstuff(line.subarray(0, n - 2)), out)
      out.push(line)
      return out
    }

    let content = line.subarray(0, n - (crlf ? 2 : endsLf ? 1 : 0))
    if (endsLf && !crlf) this.findings.bareLf = true
    if (content.includes(NUL)) {
      this.findings.nul = true
      if (this.opts.nul === 'strip') content = Buffer.from(content.filter((b) => b !== NUL))
    }
    const segments = splitAtCr(content)
    if (segments.length > 1) this.findings.bareCr = true

    const out: Buffer[] = []
    segments.forEach((seg, i) => {
      const startsLine = i === 0 && this.atLineStart
      this.checkHeader(startsLine ? unstuff(seg) : seg, out)
      out.push(Buffer.concat([wireForm(seg, startsLine), CRLF]))
    })
    this.atLineStart = crlf
    return out
  }

  private checkHeader(seg: Buffer, out: Buffer[]): void {
    if (!this.inHeaders) return
    if (seg.length === 0) return this.endHeaders()
    const continuation = seg[0] === 0x20 || seg[0] === 0x09
    if (continuation ? this.headerSeen : FIELD_LINE.test(seg.toString('latin1'))) {
      if (!continuation) this.endField()
      this.headerSeen = true
      this.headerBytes += seg.length + 2
      if (this.headerBytes <= MAX_HEADER_BYTES) this.field.push(seg, CRLF)
      return
    }
    this.endHeaders()
    this.findings.malformedHeader ??= printable(seg)
    if (this.opts.header === 'repair') out.push(CRLF)
  }

  private endHeaders(): void {
    this.endField()
    this.inHeaders = false
  }

  private endField(): void {
    if (this.field.length === 0) return
    const bytes = Buffer.concat(this.field)
    this.field = []
    if (!isUtf8(bytes)) this.opts.onNonUtf8Field?.(bytes)
  }
}

/** Splits at every CR (all are bare: the line's own CRLF is already cut off). */
function splitAtCr(content: Buffer): Buffer[] {
  const parts: Buffer[] = []
  let from = 0
  for (let i = content.indexOf(CR); i !== -1; i = content.indexOf(CR, from)) {
    parts.push(content.subarray(from, i))
    from = i + 1
  }
  parts.push(content.subarray(from))
  return parts
}

/**
 * The bytes Haraka must get for one logical line. At a true line start the
 * client's dot-stuffing applies (Haraka removes one leading dot), except that a
 * lone "." there was not followed by CRLF and so is text. Anywhere else the line
 * exists only because a bare CR or LF became CRLF: a leading dot is text and is
 * stuffed so that Haraka keeps it (and never reads it as the end of DATA).
 */
function wireForm(seg: Buffer, startsLine: boolean): Buffer {
  if (seg[0] !== DOT) return seg
  if (startsLine && seg.length > 1) return seg
  return Buffer.concat([Buffer.from('.'), seg])
}

function unstuff(seg: Buffer): Buffer {
  return seg[0] === DOT ? seg.subarray(1) : seg
}

/** For the log: printable ASCII, the rest as \xNN, at most 60 characters. */
function printable(seg: Buffer): string {
  let s = ''
  for (const b of seg.subarray(0, 60)) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`
  return s
}
