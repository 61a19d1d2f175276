// Writes a message straight into an instance's queue folder in Haraka's own
// format (4-byte length, JSON todo header, message), as if an earlier run had
// accepted it: for queue states no SMTP client of the outbound instance may
// create, such as a sender outside the accepted domains.

import fs from 'node:fs'
import path from 'node:path'

function address(text: string): Record<string, string> {
  const at = text.lastIndexOf('@')
  const user = text.slice(0, at)
  const host = text.slice(at + 1)
  return { original: `<${text}>`, original_host: host, host: host.toLowerCase(), user }
}

/** Returns the file name; the message is due at once when the instance loads its queue. */
export function writeQueueFile(queueDir: string, opts: { from: string; to: string[]; message: string }): string {
  const now = Date.now()
  const uid = Math.random().toString(36).replace(/[^a-z0-9]/g, '').slice(2, 8).padEnd(6, 'x')
  const name = [now, now, 0, process.pid, uid, 1, 'test'].join('_')
  const todo = {
    queue_time: now,
    domain: address(opts.to[0]!).host,
    rcpt_to: opts.to.map(address),
    mail_from: address(opts.from),
    notes: {},
    uuid: `TEST-${uid}.1`,
    force_tls: false,
  }
  const header = Buffer.from(`\n${JSON.stringify(todo)}\n`)
  const len = Buffer.alloc(4)
  len.writeUInt32BE(header.length)
  fs.mkdirSync(queueDir, { recursive: true })
  fs.writeFileSync(path.join(queueDir, name), Buffer.concat([len, header, Buffer.from(opts.message.replace(/\r?\n/g, '\r\n'))]))
  return name
}
