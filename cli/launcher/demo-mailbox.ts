// The DEMO mailbox: a stand-in for the organisation's internal mail server, so
// the quick start shows mail flowing with nothing else installed. It accepts any
// message and stores it as an .eml file. It is not a mail server for real use.

import fs from 'node:fs'
import path from 'node:path'

import { SMTPServer } from 'smtp-server'

export interface MailboxOptions {
  host: string
  port: number
  /** Folder for .eml files. */
  dir: string
  log?: (line: string) => void
}

export interface Mailbox {
  close(): Promise<void>
}

export async function startMailbox(opts: MailboxOptions): Promise<Mailbox> {
  // owner-only, as the gateway's queue: these are people's messages
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
  fs.chmodSync(opts.dir, 0o700)
  let seq = 0
  const server = new SMTPServer({
    name: 'demo-mailbox',
    banner: 'DEMO internal mailbox (stand-in for your mail server)',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const rcpts = session.envelope.rcptTo.map((r) => r.address).join(', ')
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${++seq}.eml`
        const file = path.join(opts.dir, name)
        fs.writeFile(file, Buffer.concat(chunks), { mode: 0o600 }, (err) => {
          if (err) return callback(err)
          opts.log?.(`stored message for ${rcpts} in ${file}`)
          callback()
        })
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => resolve())
  })
  return { close: () => new Promise((resolve) => server.close(() => resolve())) }
}
