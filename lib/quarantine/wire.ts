// A released message as Haraka's delivery queue takes it in: the SMTP DATA lines
// it arrived as (dot-stuffed, each line as stored), headed by one
// X-Gateway-Released line. Read back without dot-stuffing this is exactly the
// stored message plus that line.

import type { QuarantineEntry } from './store'

/** Sender- or user-controlled text inside one header line: printable ASCII only. */
function headerText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').trim() || '?'
}

/** The header line a released message starts with, CRLF included. */
export function releasedHeader(entry: Pick<QuarantineEntry, 'check' | 'result'>, by: string, at: Date): string {
  return `X-Gateway-Released: ${at.toUTCString()} by ${headerText(by)} (was ${headerText(entry.check)}: ${headerText(entry.result)})\r\n`
}

/** `message` split after every LF (line endings untouched), a leading "." doubled as on the wire (RFC 5321 4.5.2). */
export function dataLines(message: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  while (start < message.length) {
    const lf = message.indexOf(0x0a, start)
    const end = lf === -1 ? message.length : lf + 1
    const line = message.subarray(start, end)
    lines.push(line[0] === 0x2e ? Buffer.concat([Buffer.from('.'), line]) : line)
    start = end
  }
  return lines
}
