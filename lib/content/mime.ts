// The parts of Haraka's MIME parser (haraka-email-message, the one Haraka uses
// for transaction.body) that the content checks rely on, typed here because
// Haraka ships no typings. Also parses a message found inside a message
// (message/rfc822 parts) with the same parser.

import type { EventEmitter } from 'node:events'

export interface MimeHeader {
  get_decoded(name: string): string
}

/** One node of the parsed MIME tree (haraka-email-message Body). */
export interface MimePart extends EventEmitter {
  readonly header: MimeHeader
  /** Decoded text of a text part, filled in when the part ends. */
  readonly bodytext: string
  readonly children: MimePart[]
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

// Haraka's own dependency (the same version as transaction.body's parser); it has no typings.
const emailMessage = require('haraka-email-message') as EmailMessageModule

/**
 * Parses a complete message (header and body) with Haraka's MIME parser, calling
 * `onAttachment` for each attachment as Haraka does for the transaction's body.
 */
export function parseMessage(raw: Buffer, onAttachment: AttachmentStart): MimePart {
  const lines = splitLines(raw)
  const header = new emailMessage.Header()
  let i = 0
  const headerLines: string[] = []
  for (; i < lines.length; i++) {
    const line = lines[i]!.toString('utf8')
    if (/^\r?\n?$/.test(line)) {
      i++
      break
    }
    headerLines.push(line.replace(/\r\n$/, '\n'))
  }
  header.parse(headerLines)
  const body = new emailMessage.Body(header)
  body.on('attachment_start', onAttachment)
  // Haraka feeds the body parser LF-terminated lines (transaction.remove_final_cr); so do we
  for (; i < lines.length; i++) body.parse_more(lfOnly(lines[i]!))
  body.parse_end()
  return body
}

function lfOnly(line: Buffer): Buffer {
  const n = line.length
  return n >= 2 && line[n - 2] === 0x0d && line[n - 1] === 0x0a ? Buffer.concat([line.subarray(0, n - 2), Buffer.from('\n')]) : line
}

function splitLines(raw: Buffer): Buffer[] {
  const out: Buffer[] = []
  let start = 0
  for (let nl = raw.indexOf(0x0a); nl >= 0; nl = raw.indexOf(0x0a, start)) {
    out.push(raw.subarray(start, nl + 1))
    start = nl + 1
  }
  if (start < raw.length) out.push(Buffer.concat([raw.subarray(start), Buffer.from('\r\n')]))
  return out
}
