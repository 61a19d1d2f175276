// Reads Haraka's outbound queue files without Haraka: the file name carries the
// schedule (arrival, next attempt, attempts) and the file starts with a JSON
// "todo" header (domain, envelope). Format as written by haraka 3.3.4
// outbound/qfile.js and outbound/index.js build_todo; kept read-only on purpose.

import fs from 'node:fs'
import path from 'node:path'

export interface QueueFileName {
  /** When the message entered the queue (ms since epoch). */
  readonly arrival: number
  /** When Haraka will try it next (ms since epoch). */
  readonly nextAttempt: number
  /** Failed attempts so far. */
  readonly attempts: number
  readonly pid: number
  /** Random tag, kept across renames: the stable part of the file name. */
  readonly uid: string
  readonly counter: number
  readonly host: string
}

/**
 * The seven fields, each number of digits only, the tag alphanumeric and the host
 * without "_" (Haraka escapes it as \\137). Temporary ("__tmp__."), error and hidden
 * files never match. One regular expression: the delivery hooks parse the same
 * name several times per attempt (issue 12).
 */
const QUEUE_FILE_NAME = /^(\d+)_(\d+)_(\d+)_(\d+)_([A-Za-z0-9]+)_(\d+)_([^_]*)$/

/** $arrival_$nextattempt_$attempts_$pid_$uid_$counter_$host, or null for anything else. */
export function parseQueueFileName(name: string): QueueFileName | null {
  const m = QUEUE_FILE_NAME.exec(name)
  if (!m) return null
  return { arrival: Number(m[1]), nextAttempt: Number(m[2]), attempts: Number(m[3]), pid: Number(m[4]), uid: m[5]!, counter: Number(m[6]), host: m[7]! }
}

/**
 * The administrator's ID of a queued message: arrival time and random tag, the two
 * parts Haraka keeps when it renames the file after each attempt.
 */
export function queueId(name: QueueFileName): string {
  return `${name.arrival.toString(36)}${name.uid}`
}

export interface QueueTodo {
  readonly domain: string
  readonly mailFrom: string
  readonly rcptTo: readonly string[]
  /** Haraka's transaction UUID (with a per-domain suffix). */
  readonly uuid: string
}

interface RawAddress {
  user?: string | null
  host?: string | null
  original_host?: string | null
}

function formatAddress(a: RawAddress | undefined): string {
  if (!a?.user) return ''
  return a.host ? `${a.user}@${a.host}` : a.user
}

/** Decodes the header of a queue file: a 4-byte big-endian length, then the JSON todo. */
export function parseTodo(header: Buffer): QueueTodo {
  if (header.length < 4) throw new Error('shorter than its length prefix')
  const len = header.readUInt32BE(0)
  if (header.length < 4 + len) throw new Error(`todo header truncated (${header.length - 4} of ${len} bytes)`)
  const raw = JSON.parse(header.subarray(4, 4 + len).toString('utf8')) as {
    domain?: unknown
    mail_from?: RawAddress
    rcpt_to?: RawAddress[]
    uuid?: unknown
  }
  if (typeof raw.domain !== 'string' || !Array.isArray(raw.rcpt_to)) throw new Error('todo header lacks domain or rcpt_to')
  return {
    domain: raw.domain.toLowerCase(),
    mailFrom: formatAddress(raw.mail_from),
    rcptTo: raw.rcpt_to.map(formatAddress),
    uuid: typeof raw.uuid === 'string' ? raw.uuid : '',
  }
}

/** Largest todo header we read (Haraka's are a few hundred bytes; thousands of recipients stay far below). */
const MAX_TODO_BYTES = 16 * 1024 * 1024

export function readTodo(file: string): QueueTodo {
  const fd = fs.openSync(file, 'r')
  try {
    const prefix = Buffer.alloc(4)
    if (fs.readSync(fd, prefix, 0, 4, 0) !== 4) throw new Error('shorter than its length prefix')
    const len = prefix.readUInt32BE(0)
    if (len > MAX_TODO_BYTES) throw new Error(`todo header of ${len} bytes is implausible`)
    const buf = Buffer.alloc(4 + len)
    prefix.copy(buf)
    let got = 0
    while (got < len) {
      const n = fs.readSync(fd, buf, 4 + got, len - got, 4 + got)
      if (n === 0) break
      got += n
    }
    return parseTodo(buf.subarray(0, 4 + got))
  } finally {
    fs.closeSync(fd)
  }
}

export interface QueuedMessage {
  readonly id: string
  readonly file: string
  readonly name: QueueFileName
  /** Null when the header could not be read (the message is still listed, with the reason). */
  readonly todo: QueueTodo | null
  readonly error?: string
}

/** Every queued message in `dir`, oldest first; an unreadable header is reported, not fatal. */
export function listQueue(dir: string): QueuedMessage[] {
  // Haraka renames a file after every attempt: a name read from the folder may be
  // gone a moment later. Such a listing is taken again rather than missing a message.
  for (let attempt = 1; ; attempt++) {
    const listing = listOnce(dir)
    if (listing.complete || attempt === 3) return listing.messages
  }
}

function listOnce(dir: string): { messages: QueuedMessage[]; complete: boolean } {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { messages: [], complete: true }
    throw err
  }
  const out: QueuedMessage[] = []
  let complete = true
  for (const file of names) {
    const name = parseQueueFileName(file)
    if (!name) continue
    const full = path.join(dir, file)
    try {
      out.push({ id: queueId(name), file: full, name, todo: readTodo(full) })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        complete = false // renamed (retry) or delivered (gone on the next listing)
        continue
      }
      out.push({ id: queueId(name), file: full, name, todo: null, error: (err as Error).message })
    }
  }
  out.sort((a, b) => a.name.arrival - b.name.arrival || a.id.localeCompare(b.id))
  return { messages: out, complete }
}
