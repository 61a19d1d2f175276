// The parts of Haraka's MIME parser (haraka-email-message, the one Haraka uses
// for transaction.body) that the content checks rely on, typed here because
// Haraka ships no typings. Also parses a message found inside a message
// (message/rfc822 parts) with the same parser, within limits: the parser
// allocates 128 KiB per part and works synchronously, so an attached message
// is fed to it in slices (yielding to other connections in between) and the
// parse stops as soon as a limit is reached, not after.

import type { EventEmitter } from 'node:events'

export interface MimeHeader {
  get_decoded(name: string): string
  /** The raw values (folded as received, not decoded) of every occurrence. */
  get_all(name: string): readonly string[]
}

/** One node of the parsed MIME tree (haraka-email-message Body). */
export interface MimePart extends EventEmitter {
  readonly header: MimeHeader
  /** Decoded text of a text part, filled in when the part ends. */
  readonly bodytext: string
  readonly children: MimePart[]
  /** Parser state: 'headers' while it reads the part's header lines, 'child' while inside a multipart's part, ... */
  readonly state: string
  /** A part's header lines not parsed yet (removed once the blank line after them is read). */
  readonly header_lines?: readonly string[]
}

/** The stream an attachment's decoded bytes arrive on (haraka-email-message AttachmentStream). */
export type AttachmentStream = EventEmitter

/** `transaction.attachment_hooks` callback: content type, file name, its part, its data. */
export type AttachmentStart = (contentType: string, filename: string, part: MimePart, stream: AttachmentStream) => void

interface HeaderInstance extends MimeHeader {
  parse(lines: string[]): void
}
interface BodyInstance extends MimePart {
  parse_more(line: Buffer): Buffer
  parse_end(): Buffer
}
interface EmailMessageModule {
  Header: new () => HeaderInstance
  Body: new (header: HeaderInstance) => BodyInstance
}

// Haraka's own dependencies (the same versions as transaction.body's parser); they have no typings.
const emailMessage = require('haraka-email-message') as EmailMessageModule
const harakaConfig = require('haraka-config') as { get(name: string): unknown }

/** The parser's nesting cap (body.js reads the same setting): a multipart that deep is not split, silently. */
export const MAX_MIME_DEPTH: number = Number(harakaConfig.get('mailparser.max_mime_depth')) || 100

/** Largest header (of the message or of one part) parsed: the parser parses a header in one synchronous step. */
export const MAX_HEADER_LINES = 1000
export const MAX_HEADER_BYTES = 256 * 1024

// One slice of parsing between yields: bounded in bytes, lines, and parts (each costs the parser ~0.5 ms)
const SLICE_BYTES = 64 * 1024
const SLICE_LINES = 2048
const SLICE_PARTS = 16

export interface ParseLimits {
  /** Asked for every part the parser opens (and for the message itself); false stops the parse. */
  takePart(): boolean
}

export interface ParsedMessage {
  /** undefined when the message's own header was over the limits. */
  readonly root: MimePart | undefined
  /** Why the parse stopped early (then `root` is incomplete and the rest was never parsed). */
  readonly stopped: string | undefined
}

/**
 * Parses a complete message (header and body) with Haraka's MIME parser, calling
 * `onAttachment` for each attachment as Haraka does for the transaction's body.
 */
export async function parseMessage(raw: Buffer, onAttachment: AttachmentStart, limits: ParseLimits): Promise<ParsedMessage> {
  const lines = lineReader(raw)
  if (!limits.takePart()) return { root: undefined, stopped: 'too many parts' }
  const headerLines: string[] = []
  let headerBytes = 0
  for (let line = lines.next(); line; line = lines.next()) {
    const text = line.toString('utf8')
    if (/^\r?\n?$/.test(text)) break
    headerLines.push(text.replace(/\r\n$/, '\n'))
    headerBytes += line.length
    if (headerLines.length > MAX_HEADER_LINES || headerBytes > MAX_HEADER_BYTES) return { root: undefined, stopped: headerTooLarge() }
  }
  const header = new emailMessage.Header()
  header.parse(headerLines)
  const body = new emailMessage.Body(header)
  body.on('attachment_start', onAttachment)
  let stopped: string | undefined
  let parts = 0
  // the parser copies this listener to every part it creates, at every depth
  body.on('mime_boundary', () => {
    parts++
    if (!stopped && !limits.takePart()) stopped = 'too many parts'
  })

  let bytes = 0
  let count = 0
  // Haraka feeds the body parser LF-terminated lines (transaction.remove_final_cr); so do we
  for (let line = lines.next(); line; line = lines.next()) {
    body.parse_more(lfOnly(line))
    if (stopped) return { root: body, stopped }
    bytes += line.length
    if (bytes >= SLICE_BYTES || ++count >= SLICE_LINES || parts >= SLICE_PARTS) {
      // checked before the blank line that would make the parser parse this header in one go
      if (openHeaderTooLarge(body)) return { root: body, stopped: headerTooLarge() }
      bytes = count = parts = 0
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
  if (openHeaderTooLarge(body)) return { root: body, stopped: headerTooLarge() }
  body.parse_end()
  return { root: body, stopped: undefined }
}

const headerTooLarge = () => `a header over ${MAX_HEADER_LINES} lines or ${MAX_HEADER_BYTES} bytes`

/** Whether the part the parser is in is reading header lines, and has read too many. */
function openHeaderTooLarge(root: MimePart): boolean {
  let part = root
  while (part.state === 'child' && part.children.length > 0) part = part.children[part.children.length - 1]!
  const pending = part.state === 'headers' ? part.header_lines : undefined
  if (!pending) return false
  if (pending.length > MAX_HEADER_LINES) return true
  let size = 0
  for (const l of pending) size += l.length
  return size > MAX_HEADER_BYTES
}

function lfOnly(line: Buffer): Buffer {
  const n = line.length
  return n >= 2 && line[n - 2] === 0x0d && line[n - 1] === 0x0a ? Buffer.concat([line.subarray(0, n - 2), Buffer.from('\n')]) : line
}

/** The lines of `raw` one at a time (a last line without newline gets one), without building them all up front. */
function lineReader(raw: Buffer): { next(): Buffer | undefined } {
  let start = 0
  return {
    next() {
      if (start >= raw.length) return undefined
      const nl = raw.indexOf(0x0a, start)
      if (nl < 0) {
        const last = Buffer.concat([raw.subarray(start), Buffer.from('\r\n')])
        start = raw.length
        return last
      }
      const line = raw.subarray(start, nl + 1)
      start = nl + 1
      return line
    },
  }
}
