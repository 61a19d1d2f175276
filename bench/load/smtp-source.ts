// Postfix's smtp-source as the load generator for plain SMTP: a C client that
// costs the machine almost nothing, so the server under test gets the CPU.
// One message per session (it reconnects for each), `sessions` in parallel.

import { spawn } from 'node:child_process'
import fs from 'node:fs'

export const SMTP_SOURCE_BIN = process.env.SMTP_SOURCE_BIN ?? '/usr/sbin/smtp-source'

export interface SourceLoad {
  host: string
  port: number
  from: string
  to: string
  total: number
  sessions: number
  bytes: number
  /** Recipients per message (default 1): "1bob@…", "2bob@…", … as smtp-source names them. */
  recipients?: number
}

/** Runs smtp-source to completion; rejects on a non-zero exit (it stops at the first refused message). */
export async function runSmtpSource(load: SourceLoad): Promise<void> {
  if (!fs.existsSync(SMTP_SOURCE_BIN)) throw new Error(`${SMTP_SOURCE_BIN} not found: apt-get install postfix (see .ci/system-packages)`)
  // -l: message length, -m: messages in total, -s: parallel sessions, -M: our HELO name,
  // -r: recipients per message (numbered: 1bob@example.com, 2bob@example.com, …)
  const recipients = load.recipients ?? 1
  const args = ['-s', String(load.sessions), '-m', String(load.total), '-l', String(load.bytes), '-M', 'client.bench.test', '-f', load.from, '-t', load.to]
  if (recipients > 1) args.push('-r', String(recipients))
  args.push(`${load.host}:${load.port}`)
  const child = spawn(SMTP_SOURCE_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  if (code !== 0) throw new Error(`smtp-source ${args.join(' ')} exited with ${code}: ${err.trim()}`)
}
