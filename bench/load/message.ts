// The benchmark message: headers a real client writes (Date now, a unique
// Message-ID) and a plain-text body padded to the wanted size.

import { mailDate } from '../../test/helpers/content-mail'

let counter = 0

/** A message of about `bytes` bytes (CRLF line ends). */
export function benchMessage(from: string, to: string, bytes: number): string {
  const id = `bench-${process.pid}-${Date.now()}-${++counter}`
  const head = [`From: <${from}>`, `To: <${to}>`, `Subject: benchmark ${counter}`, `Message-ID: <${id}@bench.test>`, `Date: ${mailDate()}`, '', ''].join('\r\n')
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n' // 82 bytes
  const lines = Math.max(1, Math.ceil((bytes - head.length) / line.length))
  return head + line.repeat(lines)
}
